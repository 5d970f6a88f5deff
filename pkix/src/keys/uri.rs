//! Key URIs: `file:PATH` and a subset of RFC 7512 `pkcs11:` URIs.

use super::error::KeyError;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where a key lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyUri {
    /// An encrypted PKCS#8 file (relative paths are under the hcpki directory).
    File(PathBuf),
    /// A key pair on a PKCS#11 token, found by token label and object label (RFC 7512 attributes).
    Pkcs11 {
        /// `token=`: the token label.
        token: String,
        /// `object=`: the CKA_LABEL of the private and public key objects.
        object: String,
    },
}

impl KeyUri {
    /// Another key in the same kind of store as this one: the PKCS#8 file `file`, or the object labelled `object`
    /// on this token. The server's own keys (TLS, OCSP, SCEP RA, OIDC signing) sit beside a CA's key this way.
    pub fn sibling(&self, file: &str, object: &str) -> Self {
        match self {
            Self::File(_) => Self::File(file.into()),
            Self::Pkcs11 { token, .. } => Self::Pkcs11 { token: token.clone(), object: object.into() },
        }
    }
}

impl FromStr for KeyUri {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        if let Some(path) = s.strip_prefix("file:") {
            if path.is_empty() {
                return Err(KeyError::Uri(s.to_owned()));
            }
            return Ok(Self::File(PathBuf::from(path)));
        }
        if let Some(attrs) = s.strip_prefix("pkcs11:") {
            let mut token = None;
            let mut object = None;
            for attr in attrs.split(';').filter(|a| !a.is_empty()) {
                match attr.split_once('=') {
                    Some(("token", v)) if !v.is_empty() => token = Some(percent_decode(v, s)?),
                    Some(("object", v)) if !v.is_empty() => object = Some(percent_decode(v, s)?),
                    Some(("type", "private")) => {}
                    _ => return Err(KeyError::Uri(s.to_owned())),
                }
            }
            return match (token, object) {
                (Some(token), Some(object)) => Ok(Self::Pkcs11 { token, object }),
                _ => Err(KeyError::Uri(s.to_owned())),
            };
        }
        Err(KeyError::Uri(s.to_owned()))
    }
}

fn percent_decode(v: &str, whole: &str) -> Result<String, KeyError> {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(|| KeyError::Uri(whole.to_owned()))?;
            let hex = std::str::from_utf8(hex).map_err(|_| KeyError::Uri(whole.to_owned()))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| KeyError::Uri(whole.to_owned()))?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| KeyError::Uri(whole.to_owned()))
}

impl fmt::Display for KeyUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "file:{}", p.display()),
            Self::Pkcs11 { token, object } => write!(f, "pkcs11:token={token};object={object}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms_and_rejects_others() {
        assert_eq!("file:keys/a.p8".parse::<KeyUri>().unwrap(), KeyUri::File("keys/a.p8".into()));
        assert_eq!(
            "pkcs11:token=ca%20token;object=root".parse::<KeyUri>().unwrap(),
            KeyUri::Pkcs11 { token: "ca token".into(), object: "root".into() }
        );
        for bad in ["", "file:", "pkcs11:", "pkcs11:token=a", "pkcs11:token=a;object=b;pin-value=1", "http://x"] {
            assert!(bad.parse::<KeyUri>().is_err(), "{bad}");
        }
    }
}
