//! The grant types `/token` offers, named once: the discovery document lists them from here and the token
//! endpoint reads `grant_type` into one (issue #43 item 5).

/// A `grant_type` this provider offers at `/token`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantType {
    /// RFC 6749 §4.1.3, with PKCE (RFC 7636).
    AuthorizationCode,
    /// RFC 6749 §6, rotated with reuse detection.
    RefreshToken,
    /// RFC 8693 token exchange (D96), answered by `crate::token_exchange` (dispatched by
    /// `crate::token_endpoint`, as every grant).
    TokenExchange,
    /// RFC 6749 §4.4, for scope `scim` only (D158), answered by `crate::oidc::client_credentials`.
    ClientCredentials,
}

impl GrantType {
    /// Every grant type offered, in the order discovery lists them.
    pub const ALL: [GrantType; 4] =
        [Self::AuthorizationCode, Self::RefreshToken, Self::TokenExchange, Self::ClientCredentials];

    /// The `grant_type` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// The grant type a `grant_type` value names, if offered.
    pub fn parse(value: &str) -> Option<GrantType> {
        Self::ALL.into_iter().find(|g| g.as_str() == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_reads_back_and_nothing_else_reads() {
        for grant in GrantType::ALL {
            assert_eq!(GrantType::parse(grant.as_str()), Some(grant));
        }
        assert_eq!(GrantType::parse("password"), None);
        assert_eq!(GrantType::parse("implicit"), None);
        assert_eq!(GrantType::parse("AUTHORIZATION_CODE"), None);
    }
}
