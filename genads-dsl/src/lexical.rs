//! The lexical pre-scan, run before the grammar: what a token-level grammar cannot say well.
//!
//! - Comments as Rust has them: `//` to the end of the line, and `/* … */` block comments that
//!   nest. An unterminated block comment is named at its opening `/*` (the grammar would only see
//!   a stray `/`).
//! - Invisible and unusual characters outside comments (zero-width characters, joiners,
//!   bidirectional controls, fillers, variation selectors, a byte-order mark after the start,
//!   control characters, spaces other than space and tab): each is named by its code point, as
//!   part of a name when it touches one. A byte-order mark at the very start is accepted.
//! - Limits that keep the recursive tree walks shallow: bracket and comment nesting, operators
//!   per model block.

use std::ops::Range;

/// Deepest expression nesting accepted (guards the recursive tree walks against stack overflow).
pub const MAX_NESTING: usize = 64;

/// Most operators accepted in one model block (guards recursion depth of the tree walks).
pub const MAX_OPERATORS: usize = 1000;

/// A refusal of the pre-scan: where, what, and the rule.
pub(crate) struct Refusal {
    pub span: Range<usize>,
    pub message: String,
    pub rule: &'static str,
}

const RULE_COMMENT: &str = "a `/*` comment ends at its matching `*/`; block comments nest as in \
     Rust, so every `/*` inside one needs its own `*/`";
const RULE_LIMITS: &str = "limits: keep expressions small";
const RULE_INVISIBLE: &str = "outside comments a source holds visible characters, spaces, tabs \
     and line breaks only: invisible characters would make equal-looking names and text differ";

/// The first lexical problem of `source`, if any.
pub(crate) fn prescan(source: &str) -> Option<Refusal> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut operators = 0usize;
    let mut i = if source.starts_with('\u{FEFF}') { 3 } else { 0 };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                match block_comment(bytes, i) {
                    Ok(end) => i = end,
                    Err(refusal) => return Some(refusal),
                }
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(Refusal {
                        span: i..i + 1,
                        message: format!("brackets nested deeper than {MAX_NESTING} levels"),
                        rule: RULE_LIMITS,
                    });
                }
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    operators = 0;
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'^' => {
                operators += 1;
                if operators > MAX_OPERATORS {
                    return Some(Refusal {
                        span: i..i + 1,
                        message: format!("more than {MAX_OPERATORS} operators in one model"),
                        rule: RULE_LIMITS,
                    });
                }
            }
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => {
                let c = source[i..].chars().next()?;
                if let Some(what) = unusual(c) {
                    let in_name = word_before(source, i) || word_after(source, i + c.len_utf8());
                    let message = if in_name && what.kind != Kind::Space {
                        format!("the name contains {}, {}", what.name, what.kind.noun())
                    } else {
                        format!("{}, {}, is not allowed here", what.name, what.kind.noun())
                    };
                    return Some(Refusal {
                        span: i..i + c.len_utf8(),
                        message,
                        rule: RULE_INVISIBLE,
                    });
                }
                i += c.len_utf8();
                continue;
            }
        }
        i += 1;
    }
    None
}

/// Skips the block comment opening at `start`, nested ones included: the byte after its `*/`.
/// Refused: a comment that never ends (at its opening `/*`) and comments nested deeper than
/// [`MAX_NESTING`] (at the `/*` that goes too deep).
fn block_comment(bytes: &[u8], start: usize) -> Result<usize, Refusal> {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            if depth > MAX_NESTING {
                return Err(Refusal {
                    span: i..i + 2,
                    message: format!("block comments nested deeper than {MAX_NESTING} levels"),
                    rule: RULE_LIMITS,
                });
            }
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Ok(i);
            }
        } else {
            i += 1;
        }
    }
    Err(Refusal {
        span: start..start + 2,
        message: "unterminated block comment".to_string(),
        rule: RULE_COMMENT,
    })
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether a name character (or an invisible one inside a name) comes right before byte `at`.
fn word_before(source: &str, at: usize) -> bool {
    source[..at]
        .chars()
        .rev()
        .find(|&c| unusual(c).is_none_or(|u| u.kind != Kind::Invisible))
        .is_some_and(is_word)
}

/// Whether a name character (or an invisible one inside a name) comes right at byte `at`.
fn word_after(source: &str, at: usize) -> bool {
    source[at..]
        .chars()
        .find(|&c| unusual(c).is_none_or(|u| u.kind != Kind::Invisible))
        .is_some_and(is_word)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A default-ignorable code point: rendered as nothing.
    Invisible,
    /// A control character.
    Control,
    /// A space other than U+0020 and tab, or a line separator other than `\n`, `\r`.
    Space,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Invisible => "an invisible character",
            Kind::Control => "a control character",
            Kind::Space => "a space character the language does not use (only space and tab)",
        }
    }
}

/// An unusual character: its kind and its name in messages (`U+200B ZERO WIDTH SPACE`).
pub(crate) struct Unusual {
    pub kind: Kind,
    pub name: String,
}

/// Whether `c` is invisible, a control (other than tab and line breaks) or an unusual space;
/// ordinary characters give `None`.
pub(crate) fn unusual(c: char) -> Option<Unusual> {
    let kind = if matches!(c, '\t' | '\n' | '\r') {
        return None;
    } else if c.is_control() {
        Kind::Control
    } else if default_ignorable(c) {
        Kind::Invisible
    } else if c.is_whitespace() && c != ' ' {
        Kind::Space
    } else {
        return None;
    };
    let name = match char_name(c) {
        Some(n) => format!("U+{:04X} {n}", c as u32),
        None => format!("U+{:04X}", c as u32),
    };
    Some(Unusual { kind, name })
}

/// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): code points that render as
/// nothing unless a font chooses to show them.
pub(crate) fn default_ignorable(c: char) -> bool {
    matches!(c as u32,
        0x00AD
        | 0x034F
        | 0x061C
        | 0x115F..=0x1160
        | 0x17B4..=0x17B5
        | 0x180B..=0x180F
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x206F
        | 0x3164
        | 0xFE00..=0xFE0F
        | 0xFEFF
        | 0xFFA0
        | 0xFFF0..=0xFFF8
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

/// The Unicode names of the invisible and space characters one meets in practice.
fn char_name(c: char) -> Option<&'static str> {
    Some(match c as u32 {
        0x0000 => "NULL",
        0x0009 => "CHARACTER TABULATION",
        0x000B => "LINE TABULATION",
        0x000C => "FORM FEED",
        0x001B => "ESCAPE",
        0x007F => "DELETE",
        0x0085 => "NEXT LINE",
        0x00A0 => "NO-BREAK SPACE",
        0x00AD => "SOFT HYPHEN",
        0x034F => "COMBINING GRAPHEME JOINER",
        0x061C => "ARABIC LETTER MARK",
        0x115F => "HANGUL CHOSEONG FILLER",
        0x1160 => "HANGUL JUNGSEONG FILLER",
        0x1680 => "OGHAM SPACE MARK",
        0x180E => "MONGOLIAN VOWEL SEPARATOR",
        0x2000 => "EN QUAD",
        0x2001 => "EM QUAD",
        0x2002 => "EN SPACE",
        0x2003 => "EM SPACE",
        0x2004 => "THREE-PER-EM SPACE",
        0x2005 => "FOUR-PER-EM SPACE",
        0x2006 => "SIX-PER-EM SPACE",
        0x2007 => "FIGURE SPACE",
        0x2008 => "PUNCTUATION SPACE",
        0x2009 => "THIN SPACE",
        0x200A => "HAIR SPACE",
        0x200B => "ZERO WIDTH SPACE",
        0x200C => "ZERO WIDTH NON-JOINER",
        0x200D => "ZERO WIDTH JOINER",
        0x200E => "LEFT-TO-RIGHT MARK",
        0x200F => "RIGHT-TO-LEFT MARK",
        0x2028 => "LINE SEPARATOR",
        0x2029 => "PARAGRAPH SEPARATOR",
        0x202A => "LEFT-TO-RIGHT EMBEDDING",
        0x202B => "RIGHT-TO-LEFT EMBEDDING",
        0x202C => "POP DIRECTIONAL FORMATTING",
        0x202D => "LEFT-TO-RIGHT OVERRIDE",
        0x202E => "RIGHT-TO-LEFT OVERRIDE",
        0x202F => "NARROW NO-BREAK SPACE",
        0x205F => "MEDIUM MATHEMATICAL SPACE",
        0x2060 => "WORD JOINER",
        0x2061 => "FUNCTION APPLICATION",
        0x2062 => "INVISIBLE TIMES",
        0x2063 => "INVISIBLE SEPARATOR",
        0x2064 => "INVISIBLE PLUS",
        0x2066 => "LEFT-TO-RIGHT ISOLATE",
        0x2067 => "RIGHT-TO-LEFT ISOLATE",
        0x2068 => "FIRST STRONG ISOLATE",
        0x2069 => "POP DIRECTIONAL ISOLATE",
        0x3000 => "IDEOGRAPHIC SPACE",
        0x3164 => "HANGUL FILLER",
        0xFE00 => "VARIATION SELECTOR-1",
        0xFE0E => "VARIATION SELECTOR-15",
        0xFE0F => "VARIATION SELECTOR-16",
        0xFEFF => "ZERO WIDTH NO-BREAK SPACE (byte-order mark)",
        0xFFA0 => "HALFWIDTH HANGUL FILLER",
        _ => return None,
    })
}
