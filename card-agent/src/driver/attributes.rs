//! The holder's basic four items (基本4情報) a card may carry besides its keys, and the PIN that guards
//! them. Only the My Number card's 券面事項入力補助 AP holds them today; the types sit beside the driver
//! trait because its optional operations name them.

use std::fmt;

use zeroize::Zeroizing;

use super::error::PinFormatError;
use super::pin::digits;
use crate::service::Pin;

/// The 券面事項入力補助 PIN (4 digits), checked and wiped when dropped.
pub struct TextPin(Zeroizing<Vec<u8>>);

impl TextPin {
    /// Checks the format before any try can be spent.
    pub fn new(pin: &Pin) -> Result<Self, PinFormatError> {
        digits(&pin.0, 4).map(TextPin)
    }

    /// The bytes VERIFY sends.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for TextPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TextPin(***)")
    }
}

/// The basic four items (基本4情報) as the text AP holds them. `Debug` shows no personal data.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct BasicAttributes {
    /// 氏名.
    pub name: String,
    /// 住所.
    pub address: String,
    /// 生年月日, as the card stores it.
    pub birth_date: String,
    /// 性別 code (`1` male, `2` female, `3` other).
    pub sex: String,
}

impl fmt::Debug for BasicAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BasicAttributes(***)")
    }
}
