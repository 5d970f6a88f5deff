//! Where a name or address uses substitute characters (代替文字): items `.2` (name) and `.6` (address).
//!
//! The certificate writes names and addresses in JIS X 0208 levels 1 and 2 (and the supplementary kanji);
//! a character of the resident register outside them is replaced by a substitute character. The position
//! item has one character per character of the text: `0` the original character, `1` a substitute. A real
//! card's certificate showed `00000` for the name and 22 `0`s for the address; that the length always equals
//! the text's character count (U+3000 between family and given name included) is not confirmed, so a
//! different length is kept, not refused.

/// One flag per character of the name or address: whether that character is a substitute.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SubstitutePositions(Vec<bool>);

impl SubstitutePositions {
    /// Parses `0`/`1` characters; `None` if any other character appears.
    pub fn parse(text: &str) -> Option<Self> {
        text.chars()
            .map(|c| match c {
                '0' => Some(false),
                '1' => Some(true),
                _ => None,
            })
            .collect::<Option<Vec<bool>>>()
            .map(Self)
    }

    /// Whether any character is a substitute: staff then know the text shown is not exactly the register's.
    pub fn any(&self) -> bool {
        self.0.contains(&true)
    }

    /// Indexes (in characters) of the substitutes.
    pub fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().filter_map(|(i, s)| s.then_some(i))
    }

    /// Number of characters the item describes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the item is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the item has one flag per character of `text`.
    pub fn fits(&self, text: &str) -> bool {
        self.0.len() == text.chars().count()
    }

    /// The certificate's form: `0`/`1` per character.
    pub fn code(&self) -> String {
        self.0.iter().map(|s| if *s { '1' } else { '0' }).collect()
    }
}

impl std::fmt::Debug for SubstitutePositions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SubstitutePositions({})", self.code())
    }
}
