//! Who performs an action.

/// Who performs an action (recorded in audit entries and state changes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    /// The local administrator running the CLI as `user`.
    pub fn cli(user: &str) -> Self {
        Self(format!("cli:{user}"))
    }

    /// The system itself (timers, automatic transitions).
    pub fn system() -> Self {
        Self("system".into())
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
