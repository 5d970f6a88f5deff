//! The basic four items (基本4情報) in the 署名用 certificate's subjectAltName.
//!
//! ```text
//! -- RFC 5280 §4.2.1.6
//! SubjectAltName ::= GeneralNames
//! GeneralName ::= CHOICE { otherName [0] OtherName, ... }
//! OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY DEFINED BY type-id }
//! -- J-LIS profile (as quoted by third parties): type-id 1.2.392.200149.8.5.5.n, value a UTF8String
//! ```
//! Each item appears at most once; other names and otherNames of other types are ignored.

use super::{BirthDate, BirthDateError, CertificateKind, SubstitutePositions, certificate_kind};
use der::asn1::{ObjectIdentifier, Utf8StringRef};
use der::{Tag, Tagged};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

/// The basic four items of a JPKI 署名用 certificate, as the resident register recorded them when the
/// certificate was issued (a change of name or address revokes it).
///
/// `Debug` prints no personal data: these values must not reach logs.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicFour {
    name: String,
    name_substitute: Option<SubstitutePositions>,
    sex: Sex,
    birth_date: BirthDate,
    address: String,
    address_substitute: Option<SubstitutePositions>,
}

/// One item of the four, with its otherName type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Item {
    /// `.1` 氏名: family and given name separated by U+3000.
    Name,
    /// `.2` 氏名代替文字の使用位置情報.
    NameSubstitute,
    /// `.3` 性別.
    Sex,
    /// `.4` 生年月日.
    BirthDate,
    /// `.5` 住所, from the prefecture, no postcode.
    Address,
    /// `.6` 住所代替文字の使用位置情報.
    AddressSubstitute,
}

impl Item {
    /// Every item, in type-id order.
    pub const ALL: [Item; 6] =
        [Item::Name, Item::NameSubstitute, Item::Sex, Item::BirthDate, Item::Address, Item::AddressSubstitute];

    /// The otherName type-id, 1.2.392.200149.8.5.5.n.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Item::Name => ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.1"),
            Item::NameSubstitute => ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.2"),
            Item::Sex => ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.3"),
            Item::BirthDate => ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.4"),
            Item::Address => ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.5"),
            Item::AddressSubstitute => ObjectIdentifier::new_unwrap("1.2.392.200149.8.5.5.6"),
        }
    }

    /// Its place in [`Item::ALL`].
    fn index(self) -> usize {
        match self {
            Item::Name => 0,
            Item::NameSubstitute => 1,
            Item::Sex => 2,
            Item::BirthDate => 3,
            Item::Address => 4,
            Item::AddressSubstitute => 5,
        }
    }

    fn from_oid(oid: &ObjectIdentifier) -> Option<Item> {
        Item::ALL.into_iter().find(|i| i.oid() == *oid)
    }

    fn label(self) -> &'static str {
        match self {
            Item::Name => "the name (氏名)",
            Item::NameSubstitute => "the name's substitute-character positions",
            Item::Sex => "the sex (性別)",
            Item::BirthDate => "the date of birth (生年月日)",
            Item::Address => "the address (住所)",
            Item::AddressSubstitute => "the address's substitute-character positions",
        }
    }
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.label(), self.oid())
    }
}

/// The sex item's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sex {
    /// `1`: 男.
    Male,
    /// `2`: 女.
    Female,
    /// `3`: 不明 (not recorded).
    Unknown,
}

impl Sex {
    /// The sex of code `code`.
    pub fn from_code(code: &str) -> Result<Sex, BasicFourError> {
        match code {
            "1" => Ok(Sex::Male),
            "2" => Ok(Sex::Female),
            "3" => Ok(Sex::Unknown),
            other => Err(BasicFourError::UnknownSex { code: other.chars().take(8).collect() }),
        }
    }

    /// The certificate's code.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "1",
            Sex::Female => "2",
            Sex::Unknown => "3",
        }
    }

    /// 男 / 女 / 不明.
    pub fn label_ja(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
            Sex::Unknown => "不明",
        }
    }
}

/// Why the basic four items cannot be read from a certificate. None of the messages carries a name, address or
/// date: they are logged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BasicFourError {
    /// An extension does not decode.
    #[error(
        "the certificate's extensions do not decode ({0}): J-LIS issues no such certificate; confirm the patient's \
         identity with another document"
    )]
    Malformed(der::Error),
    /// The 利用者証明用 certificate was given.
    #[error(
        "this is the card's user-authentication certificate (利用者証明用), which carries no basic four items: read \
         the signing certificate (署名用, EF 0001) after the patient enters the signing password"
    )]
    AuthenticationCertificate,
    /// No JPKI signing policy.
    #[error(
        "not a JPKI signing certificate (no certificate policy under 1.2.392.200149.8.5.1.1): only the My Number \
         card's signing certificate (署名用) carries the basic four items"
    )]
    NotSigningCertificate,
    /// No subjectAltName extension at all.
    #[error(
        "the signing certificate has no subjectAltName, where J-LIS writes the basic four items: confirm the \
         patient's identity with another document"
    )]
    NoSubjectAltName,
    /// A mandatory item is absent.
    #[error("the signing certificate lacks {0}: confirm the patient's identity with another document")]
    MissingItem(Item),
    /// An item appears twice.
    #[error(
        "the signing certificate carries {0} twice, so which one holds is unclear: confirm the patient's identity with another document"
    )]
    DuplicateItem(Item),
    /// An item's value is not a UTF8String.
    #[error("{item} is a {tag} where J-LIS writes a UTF8String: confirm the patient's identity with another document")]
    NotUtf8String {
        /// Which item.
        item: Item,
        /// The tag found.
        tag: Tag,
    },
    /// A UTF8String whose bytes are not UTF-8.
    #[error("{0} is tagged UTF8String but is not UTF-8: confirm the patient's identity with another document")]
    InvalidUtf8(Item),
    /// The name or address is empty.
    #[error("{0} is empty: confirm the patient's identity with another document")]
    Empty(Item),
    /// The sex code is none of 1, 2, 3.
    #[error(
        "the sex code {code:?} is none of 1 (男), 2 (女), 3 (不明): hcpki does not know this coding; confirm the \
         patient's identity with another document and report the card's certificate profile"
    )]
    UnknownSex {
        /// The code found (at most 8 characters of it).
        code: String,
    },
    /// The date of birth is not `EYYYYMMDD` with an era covering the date.
    #[error("{0}: confirm the patient's identity with another document and report the card's certificate profile")]
    BirthDate(#[from] BirthDateError),
    /// A substitute-position item holds characters other than `0` and `1`.
    #[error("{0} holds characters other than 0 and 1: confirm the patient's identity with another document")]
    SubstitutePositions(Item),
}

impl BasicFour {
    /// The four items of a JPKI 署名用 certificate. The certificate's policy must say 署名用: the
    /// 利用者証明用 one and any other are refused before their names are looked at. Checks nothing of the
    /// chain, validity or revocation: the caller does, before trusting what this returns.
    pub fn from_certificate(cert: &Certificate) -> Result<BasicFour, BasicFourError> {
        match certificate_kind(cert).map_err(BasicFourError::Malformed)? {
            Some(CertificateKind::Signing) => {}
            Some(CertificateKind::UserAuthentication) => return Err(BasicFourError::AuthenticationCertificate),
            None => return Err(BasicFourError::NotSigningCertificate),
        }
        match cert.tbs_certificate().get_extension::<SubjectAltName>().map_err(BasicFourError::Malformed)? {
            Some((_, san)) => Self::from_subject_alt_name(&san),
            None => Err(BasicFourError::NoSubjectAltName),
        }
    }

    /// The four items of a subjectAltName value, whatever certificate it came from.
    pub fn from_subject_alt_name(san: &SubjectAltName) -> Result<BasicFour, BasicFourError> {
        let mut found: [Option<&str>; 6] = [None; 6];
        for other in san.0.iter().filter_map(|n| match n {
            GeneralName::OtherName(other) => Some(other),
            _ => None,
        }) {
            let Some(item) = Item::from_oid(&other.type_id) else { continue };
            if other.value.tag() != Tag::Utf8String {
                return Err(BasicFourError::NotUtf8String { item, tag: other.value.tag() });
            }
            let text = Utf8StringRef::try_from(&other.value).map_err(|_| BasicFourError::InvalidUtf8(item))?;
            if let Some(slot) = found.get_mut(item.index())
                && slot.replace(text.as_str()).is_some()
            {
                return Err(BasicFourError::DuplicateItem(item));
            }
        }
        let text = |item: Item| found.get(item.index()).copied().flatten();
        let required = |item: Item| match text(item) {
            None => Err(BasicFourError::MissingItem(item)),
            Some("") => Err(BasicFourError::Empty(item)),
            Some(t) => Ok(t),
        };
        let positions = |item: Item| {
            text(item)
                .map(|t| SubstitutePositions::parse(t).ok_or(BasicFourError::SubstitutePositions(item)))
                .transpose()
        };
        Ok(BasicFour {
            name: required(Item::Name)?.to_owned(),
            name_substitute: positions(Item::NameSubstitute)?,
            sex: Sex::from_code(text(Item::Sex).ok_or(BasicFourError::MissingItem(Item::Sex))?)?,
            birth_date: BirthDate::parse(text(Item::BirthDate).ok_or(BasicFourError::MissingItem(Item::BirthDate))?)?,
            address: required(Item::Address)?.to_owned(),
            address_substitute: positions(Item::AddressSubstitute)?,
        })
    }

    /// 氏名, family and given name separated by U+3000, as the certificate writes it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the name uses substitute characters (`None`: the certificate has no such item).
    pub fn name_substitute(&self) -> Option<&SubstitutePositions> {
        self.name_substitute.as_ref()
    }

    /// 性別.
    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// 生年月日.
    pub fn birth_date(&self) -> BirthDate {
        self.birth_date
    }

    /// 住所, from the prefecture.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Where the address uses substitute characters (`None`: the certificate has no such item).
    pub fn address_substitute(&self) -> Option<&SubstitutePositions> {
        self.address_substitute.as_ref()
    }

    /// Whether the name or the address shows a substitute character: staff comparing it with another document
    /// should expect a differing character there.
    pub fn has_substitutes(&self) -> bool {
        [&self.name_substitute, &self.address_substitute].into_iter().flatten().any(SubstitutePositions::any)
    }
}

impl std::fmt::Debug for BasicFour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BasicFour(***)")
    }
}
