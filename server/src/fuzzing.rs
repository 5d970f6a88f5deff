//! The server's parsers of outside input, for the fuzz targets in `fuzz/` (cargo feature `fuzzing`, which only
//! `fuzz/Cargo.toml` turns on; a release build has none of this). Each item is the entry point the server itself
//! calls on bytes it did not make, re-exported as is: a target exercises the real code, never a copy.

/// `hcpki facility import --csv` and the console's import page: the operator's CSV file, then each good row as
/// the job item the worker reads back.
pub use crate::jobs::import::{
    Checked, Refusal, application as facility_application, job_parts, parse as facility_csv,
    refusals as facility_refusals,
};
pub use hcpki_sso::dpop_nonce::NonceKey;
/// Card-login revocation: CRLs fetched over plain HTTP (or read from files) from the operator's
/// `[login] crl_urls`, parsed before their signature is known to be good.
pub use hcpki_sso::login::crl_cache::{CrlCache, CrlError, CrlInfo, Revocation};
/// The configured CA certificates the CRLs must be signed by.
pub use hcpki_sso::login::trust::{ParsedCert, TrustAnchors};
/// `private_key_jwt` client authentication at `/token`, `/introspect`, `/revoke` and `/par`: the
/// `client_assertion` any caller may post, before anything about it is trusted; the callers an endpoint admits.
pub use hcpki_sso::oidc::client::{
    AuthMethod, ClientConfig, ClientCredentials, JWT_BEARER, Presented, Registry, Verified, verify as verify_client,
};
/// DPoP proofs (RFC 9449): the `DPoP` header any caller may send to `/token` and userinfo, and the server nonces
/// they carry.
pub use hcpki_sso::oidc::dpop::{
    DpopError, Expected as DpopExpected, Proof as DpopProof, token_hash as dpop_token_hash, verify as verify_dpop_proof,
};
/// Our own tokens presented back: bearer access tokens at `/userinfo`, `/introspect` and `/revoke`,
/// `id_token_hint` at `/logout` (the provider tries each published [`Signer`] in turn).
pub use hcpki_sso::oidc::jws::{JwsError, Signer, SigningAlg};
pub use hcpki_sso::oidc::token::{TokenRequest, TokenRequestError};
pub use hcpki_sso::policy::ClientRule;
/// The token endpoint's form, parsed into the call of its grant (`authorization_code`, `refresh_token`, token
/// exchange) and the client's credentials before anything is looked up.
pub use hcpki_sso::token_endpoint::TokenCall;

/// The card login's hcRole (ISO 17090 subjectDirectoryAttributes in the physician's HPKI card certificate), read
/// after the chain verifies but from bytes the card's issuer wrote; the role codes and labels it maps to.
pub use hcpki_sso::login::hc_role::{
    CONFIRMED_TEXTS, RoleClaim, RoleSource, RoleTexts, decode as decode_hc_role,
    from_attributes as hc_role_from_attributes, unrecognised_hint,
};
pub use hcpki_sso::policy::HcRole;

/// The card login's answer as `POST /login/card` carries it (base64 signature, comma-separated base64 chain),
/// and the verifier it goes to: the posted chain is parsed, its leaf's key checks the signature, the path is
/// built to a configured anchor, the card certificate's usage, revocation and hcRole are read.
pub use hcpki_sso::login::answer::{DecodedAnswer, MAX_POSTED_CERTS, decode as decode_card_answer};
pub use hcpki_sso::login::card::RevocationChecked;
pub use hcpki_sso::login::{CardKind, CardLoginError, CardVerifier, Challenge, RevocationPolicy, VerifiedCard};

pub use hcpki_sso::facility::certificate_serial;
/// A client certificate presented over TLS: its serial as the portal looks the facility PC up in the registry,
/// and its key as the JWK `self_signed_tls_client_auth` compares with a client's registered keys.
pub use hcpki_sso::oidc::jws::{certificate_jwk, thumbprint as jwk_thumbprint};

/// The authorization request's parameters (`/authorize` query or form, a pushed request), and the form encoding
/// of the redirects back to the client and to the login page.
pub use hcpki_sso::oidc::authorize::encode as encode_form;
pub use hcpki_sso::oidc::authorize::request::{
    AuthorizationRequest, RequestError as AuthorizationRequestError, parse as parse_authorization_request,
};

/// Request headers: the bearer token (`/userinfo`), HTTP Basic (the admin API), the server's own origin and the
/// console's cross-site check of a POST, cookies, and the console's language negotiation (query, cookie,
/// `Accept-Language`).
pub use crate::console::cross_site;
pub use crate::console::i18n::{COOKIE as LANG_COOKIE, Lang, negotiate as negotiate_lang, query_lang};
pub use crate::portal::cookie::cookie_value;
pub use crate::web::headers::{basic_credentials, bearer_token, own_origin};

/// The operator console's forms: the urlencoded body, its `csrf` token (HMAC over the binding and expiry), the
/// other fields as the handler's type.
pub use crate::app::csrf::{CsrfError, CsrfKey, FormError, LIFETIME as CSRF_LIFETIME, read_form};
/// SCIM (D158): the `filter` query parameter and `PATCH` bodies an HR system sends to `/scim/v2`, parsed and
/// applied to a User's JSON before anything is stored.
pub use hcpki_sso::scim::filter::{Filter as ScimFilter, MAX_DEPTH as SCIM_MAX_DEPTH, MAX_FILTER_BYTES};
pub use hcpki_sso::scim::patch::{PatchPath as ScimPatchPath, apply as apply_scim_patch, parse as parse_scim_patch};
pub use hcpki_sso::scim::user::{STAFF_SCHEMA, USER_SCHEMA, UserInput as ScimUserInput};
pub use hcpki_sso::scim::{USER_FILTER as SCIM_USER_FILTER, list::ListQuery as ScimListQuery};
/// Shared Signals (D162): the stream configuration a receiver POSTs, PATCHes or PUTs to `/ssf/stream`.
pub use hcpki_sso::ssf::stream::{Delivery as SsfDelivery, StreamConfig as SsfStreamConfig};
