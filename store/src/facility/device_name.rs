//! What facility staff call a device (受付PC, 診察室1; issue #45 item 8, D134): a display name for the console's
//! lists and confirmations, beside the device ID its certificates carry. Never put into a certificate.

use std::fmt;

/// Most characters a device name holds: enough for 「2階 診察室3 受付横」, short enough for a table cell.
pub const MAX_CHARS: usize = 32;

/// A device's display name: 1 to [`MAX_CHARS`] characters, trimmed, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct DeviceName(String);

/// Why a device name was refused; each says what to type instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceNameError {
    /// Nothing but spaces.
    #[error("the device name is empty: type a name such as 受付PC")]
    Empty,
    /// Longer than [`MAX_CHARS`].
    #[error("the device name has {0} characters: use at most {MAX_CHARS}")]
    TooLong(usize),
    /// A control character (a line break, a tab, …).
    #[error("the device name holds a control character: use letters, digits, spaces and punctuation only")]
    Control,
}

impl DeviceName {
    /// A name as typed: surrounding spaces (full-width too) dropped, then checked.
    pub fn parse(text: &str) -> Result<Self, DeviceNameError> {
        let name = text.trim();
        if name.is_empty() {
            return Err(DeviceNameError::Empty);
        }
        if name.chars().any(char::is_control) {
            return Err(DeviceNameError::Control);
        }
        match name.chars().count() {
            n if n > MAX_CHARS => Err(DeviceNameError::TooLong(n)),
            _ => Ok(Self(name.to_owned())),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A named device of a facility, as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NamedDevice {
    /// The device ID its certificates carry.
    pub device: String,
    /// What staff call it.
    pub name: DeviceName,
    /// Who named it last (the audit actor).
    pub named_by: String,
    /// When (Unix seconds).
    pub named_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_staff_use_are_taken_and_the_rest_refused() {
        for typed in ["受付PC", "診察室1", "　2階 診察室３　", "Reception PC #2"] {
            assert!(DeviceName::parse(typed).is_ok(), "{typed}");
        }
        assert_eq!(DeviceName::parse("  受付PC ").unwrap().as_str(), "受付PC");
        assert_eq!(DeviceName::parse("　 "), Err(DeviceNameError::Empty));
        assert_eq!(DeviceName::parse("受付\nPC"), Err(DeviceNameError::Control));
        assert_eq!(DeviceName::parse(&"あ".repeat(33)), Err(DeviceNameError::TooLong(33)));
        assert!(DeviceName::parse(&"あ".repeat(32)).is_ok());
    }
}
