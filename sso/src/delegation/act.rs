//! The `act` claim (RFC 8693 §4.1): who acts for the token's subject. A person (a delegate) is named by
//! `sub`, a pairwise subject of the service like the token's own; a service calling another on the user's
//! behalf (token exchange, D96) by `client_id`. A chain nests: the most recent actor is outermost (§4.1: "the
//! least recent actor is the most deeply nested").

use serde::{Deserialize, Serialize};

/// One actor, and the actors before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Act {
    /// A person acting (the delegate): their pairwise subject at the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// A service acting (token exchange): its client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The acting person's name, so that a service can show and record who typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The delegation the person acts under: services decide what a delegate may do from its presence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation: Option<DelegationClaim>,
    /// The actor before this one, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Act>>,
}

/// What a token says of the delegation its actor acts under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationClaim {
    /// The delegation's id (the audit log's target).
    pub id: hcpki_model::DelegationId,
    /// When it ends by itself (Unix seconds).
    pub exp: i64,
}

impl Act {
    /// A delegate acting for the token's subject.
    pub fn delegate(sub: String, name: String, delegation: DelegationClaim) -> Self {
        Self { sub: Some(sub), client_id: None, name: Some(name), delegation: Some(delegation), act: None }
    }

    /// A service acting, after the actors of `before` (the subject token's own `act`, if any).
    pub fn service(client_id: &str, before: Option<Act>) -> Self {
        Self {
            sub: None,
            client_id: Some(client_id.to_owned()),
            name: None,
            delegation: None,
            act: before.map(Box::new),
        }
    }

    /// The claim's JSON.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// How many actors the chain holds (this one included).
    pub fn depth(&self) -> usize {
        1 + self.act.as_ref().map_or(0, |a| a.depth())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 8693 §4.1's shape: the latest actor outermost, absent members absent (not null).
    #[test]
    fn a_service_acting_after_a_delegate_nests_the_delegate() {
        let delegate =
            Act::delegate("s-clerk".into(), "Clerk".into(), DelegationClaim { id: "d1".parse().unwrap(), exp: 9 });
        let chain = Act::service("emr", Some(delegate));
        assert_eq!(
            chain.to_value(),
            json!({ "client_id": "emr", "act": { "sub": "s-clerk", "name": "Clerk", "delegation": { "id": "d1", "exp": 9 } } })
        );
        assert_eq!(chain.depth(), 2);
        let back: Act = serde_json::from_value(chain.to_value()).unwrap();
        assert_eq!(back, chain);
    }
}
