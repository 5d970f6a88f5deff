//! What every web adapter (the portal, the console, the HTTP API and protocol endpoints) shares and that decides
//! nothing: request bodies read with a limit, the request headers the server reads and the one way it adds a
//! header, and the OAuth error answer. A leaf: it imports nothing of the crate, so any adapter may use it.

pub mod body;
pub mod headers;
pub mod oauth;
