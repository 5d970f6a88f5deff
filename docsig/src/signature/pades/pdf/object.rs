//! PDF objects (ISO 32000-1 §7.3) as the reader gives them and the writer writes them back.

use std::fmt::Write as _;

/// An indirect object's number and generation (ISO 32000-1 §7.3.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// Object number.
    pub number: u32,
    /// Generation number.
    pub generation: u16,
}

impl ObjectId {
    /// Object `number`, generation `generation`.
    pub fn new(number: u32, generation: u16) -> Self {
        Self { number, generation }
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} R", self.number, self.generation)
    }
}

/// A direct PDF object. Reals keep their text, so an object read and written back is the same bytes' meaning
/// without a float round trip.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    /// `null`.
    Null,
    /// `true` / `false`.
    Boolean(bool),
    /// An integer.
    Integer(i64),
    /// A real number, as written.
    Real(String),
    /// A literal or hexadecimal string, decoded to its bytes.
    String(Vec<u8>),
    /// A name, without the slash, `#xx` escapes decoded.
    Name(Vec<u8>),
    /// An array.
    Array(Vec<Object>),
    /// A dictionary.
    Dictionary(Dictionary),
    /// An indirect reference `n g R`.
    Reference(ObjectId),
}

impl Object {
    /// A name object.
    pub fn name(name: &str) -> Self {
        Self::Name(name.as_bytes().to_vec())
    }

    /// The dictionary, when this is one.
    pub fn as_dictionary(&self) -> Option<&Dictionary> {
        match self {
            Self::Dictionary(d) => Some(d),
            _ => None,
        }
    }

    /// The array, when this is one.
    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Self::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The integer, when this is one.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Self::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The name's bytes, when this is a name.
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Self::Name(n) => Some(n),
            _ => None,
        }
    }

    /// The string's bytes, when this is a string.
    pub fn as_string(&self) -> Option<&[u8]> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The reference, when this is one.
    pub fn as_reference(&self) -> Option<ObjectId> {
        match self {
            Self::Reference(id) => Some(*id),
            _ => None,
        }
    }

    /// Append this object's PDF syntax to `out`. Strings are written hexadecimal (no escaping to get wrong);
    /// names escape every byte outside the regular printable characters as `#xx` (§7.3.5).
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::Null => out.extend_from_slice(b"null"),
            Self::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Self::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Self::Real(text) => out.extend_from_slice(text.as_bytes()),
            Self::String(bytes) => {
                out.push(b'<');
                out.extend_from_slice(hex::encode_upper(bytes).as_bytes());
                out.push(b'>');
            }
            Self::Name(name) => write_name(name, out),
            Self::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Self::Dictionary(d) => d.write(out),
            Self::Reference(id) => out.extend_from_slice(id.to_string().as_bytes()),
        }
    }
}

fn write_name(name: &[u8], out: &mut Vec<u8>) {
    let mut text = String::from("/");
    for &b in name {
        if b.is_ascii_graphic() && !b"()<>[]{}/%#".contains(&b) {
            text.push(char::from(b));
        } else {
            let _ = write!(text, "#{b:02X}");
        }
    }
    out.extend_from_slice(text.as_bytes());
}

/// A dictionary, keys in the order read (the writer keeps it, so a rewritten object stays recognisable).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dictionary {
    entries: Vec<(Vec<u8>, Object)>,
}

impl Dictionary {
    /// An empty dictionary.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `key` (without the slash). A repeated key reads as its last value, as most readers do.
    pub fn get(&self, key: &str) -> Option<&Object> {
        self.entries.iter().rev().find(|(k, _)| k == key.as_bytes()).map(|(_, v)| v)
    }

    /// Set `key` to `value`, replacing every earlier value.
    pub fn set(&mut self, key: &str, value: Object) {
        self.entries.retain(|(k, _)| k != key.as_bytes());
        self.entries.push((key.as_bytes().to_vec(), value));
    }

    /// Append an entry as read (the parser's side: repeated keys kept as written).
    pub(super) fn push(&mut self, key: Vec<u8>, value: Object) {
        self.entries.push((key, value));
    }

    /// Remove `key`.
    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _)| k != key.as_bytes());
    }

    /// The name value of `key`.
    pub fn name(&self, key: &str) -> Option<&[u8]> {
        self.get(key).and_then(Object::as_name)
    }

    /// Whether `/Type` is `type_name`.
    pub fn has_type(&self, type_name: &str) -> bool {
        self.name("Type") == Some(type_name.as_bytes())
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Object)> {
        self.entries.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// This dictionary without the entries named in `keys`: what two versions are compared on.
    pub fn without(&self, keys: &[&str]) -> Self {
        let entries = self.entries.iter().filter(|(k, _)| !keys.iter().any(|key| k == key.as_bytes())).cloned();
        Self { entries: entries.collect() }
    }

    /// Write `<< /Key value … >>`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<<");
        for (key, value) in &self.entries {
            write_name(key, out);
            out.push(b' ');
            value.write(out);
        }
        out.extend_from_slice(b">>");
    }

    /// Whether the entries are the same, whatever their order.
    pub fn same_entries(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len()
            && self.entries.iter().all(|(k, v)| other.entries.iter().any(|(ok, ov)| ok == k && ov == v))
    }
}

impl FromIterator<(&'static str, Object)> for Dictionary {
    fn from_iter<T: IntoIterator<Item = (&'static str, Object)>>(iter: T) -> Self {
        Self { entries: iter.into_iter().map(|(k, v)| (k.as_bytes().to_vec(), v)).collect() }
    }
}

/// A stream: its dictionary and where its raw (still encoded) bytes are in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    /// The stream dictionary.
    pub dict: Dictionary,
    /// Offset of the first data byte.
    pub start: usize,
    /// Number of raw bytes (/Length).
    pub len: usize,
}

/// An indirect object's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Any object but a stream.
    Object(Object),
    /// A stream.
    Stream(Stream),
}
