//! The language of a page: Japanese first, English on request, chosen the way the operator console chooses
//! (`?lang=` from the page's switch, then the cookie the switch set, then the browser's `Accept-Language`
//! when its first choice is English). Framework-free, so the console and the card agent can share it.

/// The language of a page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// 日本語 (default).
    #[default]
    Ja,
    /// English.
    En,
}

impl Lang {
    /// The `lang` attribute and query value.
    pub fn code(self) -> &'static str {
        match self {
            Self::Ja => "ja",
            Self::En => "en",
        }
    }

    /// `ja` or `en`; anything else is no choice.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ja" => Some(Self::Ja),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The other language (the switch's target).
    pub fn other(self) -> Self {
        match self {
            Self::Ja => Self::En,
            Self::En => Self::Ja,
        }
    }

    /// The switch's own text, written in the language it switches to (`English`, `日本語`).
    pub fn switch_label(self) -> &'static str {
        match self.other() {
            Self::Ja => "日本語",
            Self::En => "English",
        }
    }

    /// The page language: the `lang` query value (the switch), then the cookie it set, then the
    /// `Accept-Language` tag of highest weight if it is English; Japanese otherwise.
    pub fn negotiate(query: Option<&str>, cookie: Option<&str>, accept_language: Option<&str>) -> Self {
        if let Some(l) = query.and_then(Self::parse).or_else(|| cookie.and_then(Self::parse)) {
            return l;
        }
        match preferred(accept_language.unwrap_or("")) {
            Some(tag) if tag.eq_ignore_ascii_case("en") || tag.to_ascii_lowercase().starts_with("en-") => Self::En,
            _ => Self::Ja,
        }
    }
}

/// A page family's words: `messages! { Key => "日本語", "English"; … }` makes `enum M` with one variant per
/// message and `M::text(self, Lang)`, so a message missing in either language does not compile (the console's
/// table, and the card agent's PIN page's).
#[macro_export]
macro_rules! messages {
    ($($key:ident => $ja:literal, $en:literal;)*) => {
        /// A message of the page family, in both languages.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum M { $(#[allow(missing_docs)] $key),* }

        impl M {
            /// The text in `lang`.
            pub fn text(self, lang: $crate::Lang) -> &'static str {
                match (self, lang) {
                    $((M::$key, $crate::Lang::Ja) => $ja, (M::$key, $crate::Lang::En) => $en,)*
                }
            }
        }
    };
}

/// `lang=xx` in a query string.
pub fn query_lang(query: &str) -> Option<Lang> {
    query.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == "lang").and_then(|(_, v)| Lang::parse(v))
}

/// The language tag of highest weight in an `Accept-Language` value (the first of equals).
fn preferred(accept: &str) -> Option<&str> {
    let mut best: Option<(&str, f32)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let q =
            parts.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.trim().parse::<f32>().ok()).unwrap_or(1.0);
        if !tag.is_empty() && best.is_none_or(|(_, b)| q > b) {
            best = Some((tag, q));
        }
    }
    best.map(|(t, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_wins_then_the_cookie_then_an_english_browser() {
        assert_eq!(Lang::negotiate(None, None, None), Lang::Ja);
        assert_eq!(Lang::negotiate(None, None, Some("en-GB,en;q=0.8")), Lang::En);
        assert_eq!(Lang::negotiate(None, None, Some("ja,en-US;q=0.9")), Lang::Ja);
        assert_eq!(Lang::negotiate(None, Some("en"), Some("ja")), Lang::En);
        assert_eq!(Lang::negotiate(Some("ja"), Some("en"), Some("en")), Lang::Ja);
        assert_eq!(Lang::negotiate(Some("fr"), None, None), Lang::Ja);
        assert_eq!(query_lang("x=1&lang=en"), Some(Lang::En));
        assert_eq!(Lang::Ja.switch_label(), "English");
    }
}
