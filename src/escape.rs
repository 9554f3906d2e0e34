//! Printing text read from the repository safely: the characters that change how text is laid
//! out or read (not what it says) are escaped wherever the tool prints.

/// Text from the repository made safe to print: control characters, line and paragraph
/// separators and bidirectional overrides become visible escapes (`\n`, `\u{1b}`), so that an
/// object name cannot start a new line read as a GitHub workflow command (`::error ...`), move
/// the terminal's cursor, or reorder what a reviewer sees. Everything else is kept as it is.
pub fn inert(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Characters that change how text is laid out or read rather than what it says.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}
