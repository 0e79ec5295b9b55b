//! Small string helpers shared by every layer.

/// [`str::trim`] with a fast path: policy names almost never carry surrounding whitespace,
/// and a full Unicode whitespace scan at every use of a name showed up in profiles (most of
/// all in the size-optimised WASM build, where `trim` is not inlined).
pub trait Trimmed {
    fn trimmed(&self) -> &str;
}

impl Trimmed for str {
    #[inline]
    fn trimmed(&self) -> &str {
        // Bytes 0x21..=0x7E are never whitespace, nor part of a multi-byte character.
        let solid = |b: u8| (0x21..0x7f).contains(&b);
        match self.as_bytes() {
            [first, .., last] if solid(*first) && solid(*last) => self,
            [only] if solid(*only) => self,
            _ => self.trim(),
        }
    }
}

/// The items of an optional policy list (`acls`, `grants`, a grant's `ip` ...), empty when
/// it is absent: a plain slice loop instead of `iter().flat_map(List::iter)`, whose
/// flattening adapter was inlined at every use (module size).
#[inline]
pub(crate) fn items<T>(list: &Option<crate::model::List<T>>) -> &[T] {
    match list {
        Some(list) => &list.items,
        None => &[],
    }
}

/// `text` in ASCII lower case, copied only when it has an upper-case letter (names are
/// almost always written in lower case already).
pub(crate) fn ascii_lowercase(text: &str) -> std::borrow::Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(text.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::Trimmed;

    #[test]
    fn trims_like_str_trim() {
        for text in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\n",
            "tag:ci",
            "\u{a0}x\u{a0}",
            "x\u{85}",
            "\u{2003}",
            "é",
            " é ",
            "\u{feff}x",
        ] {
            assert_eq!(text.trimmed(), text.trim(), "{text:?}");
        }
    }
}
