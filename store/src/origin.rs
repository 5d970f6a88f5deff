//! The client address of the request a task is serving, so that every audit entry written while serving it
//! says where the request came from (issue #50 item 5: incident support traces an action to its source).
//!
//! The HTTP front end sets it once per request ([`serving`]); the audit chain adds it to each entry's detail
//! as `"client"` unless the entry names one already. It is a task-local, not a parameter, because the audit
//! entries of a request are written by dozens of operations in the CA and SSO crates, which know nothing of
//! HTTP; and a task-local is never *wrong*: work handed to another task (a group-commit worker serving many
//! requests in one batch) simply has none, and its entries carry no client rather than another request's.

use std::future::Future;
use std::net::IpAddr;

tokio::task_local! {
    static CLIENT: IpAddr;
}

/// Run `work` as the serving of a request from `client`.
pub async fn serving<F: Future>(client: IpAddr, work: F) -> F::Output {
    CLIENT.scope(client, work).await
}

/// The client of the request this task is serving, if it serves one.
pub fn client() -> Option<IpAddr> {
    CLIENT.try_with(|c| *c).ok()
}

/// `detail` with `"client"` added when this task serves a request and `detail` is an object without one.
pub(crate) fn stamped(detail: &serde_json::Value) -> std::borrow::Cow<'_, serde_json::Value> {
    match (client(), detail) {
        (Some(ip), serde_json::Value::Object(map)) if !map.contains_key("client") => {
            let mut map = map.clone();
            map.insert("client".into(), serde_json::Value::String(ip.to_string()));
            std::borrow::Cow::Owned(serde_json::Value::Object(map))
        }
        _ => std::borrow::Cow::Borrowed(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn entries_written_while_serving_say_the_client_and_others_do_not() {
        let detail = json!({ "profile": "pc" });
        assert_eq!(*stamped(&detail), detail, "no request, no client");
        let ip: IpAddr = "2001:db8::7".parse().unwrap();
        serving(ip, async {
            assert_eq!(*stamped(&detail), json!({ "profile": "pc", "client": "2001:db8::7" }));
            let named = json!({ "client": "192.0.2.1" });
            assert_eq!(*stamped(&named), named, "an entry that names its client keeps it");
            assert_eq!(*stamped(&json!("text")), json!("text"), "only objects are stamped");
            // Another task (a group-commit worker) does not inherit the request's client.
            let spawned = tokio::spawn(async { client() }).await.unwrap();
            assert_eq!(spawned, None);
        })
        .await;
    }
}
