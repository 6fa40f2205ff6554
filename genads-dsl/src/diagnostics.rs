//! Diagnostics: an error at a place in a source file, rendered rustc-style with the source line and
//! a caret under the offending token, plus the rule that was broken. A long source line is echoed
//! as a window of at most [`ECHO_WIDTH`] characters around the error, with `…` where it is cut.

use std::fmt;
use std::ops::Range;

/// One error in a `.genads` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name (or another label) of the source.
    pub origin: String,
    /// 1-based line of the span's start.
    pub line: usize,
    /// 1-based column (in characters) of the span's start; a byte-order mark that starts the
    /// source is not counted (editors do not show it).
    pub column: usize,
    /// Byte range of the offending text.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
    /// The rule that was broken, when there is one to name.
    pub rule: Option<String>,
    /// The full source line the span starts on (without its line break, nor a byte-order mark
    /// that starts the source).
    pub source_line: String,
}

impl Diagnostic {
    /// A diagnostic at `span` of `source`; line, column and source line are computed here.
    /// Out-of-range or non-boundary spans are clamped, never a panic.
    pub fn new(
        source: &str,
        origin: &str,
        span: Range<usize>,
        message: impl Into<String>,
        rule: Option<String>,
    ) -> Diagnostic {
        let start = floor_boundary(source, span.start.min(source.len()));
        let end = floor_boundary(source, span.end.clamp(start, source.len()));
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line = source[..start].matches('\n').count() + 1;
        // A byte-order mark that starts the source is not part of line 1 (the grammar skips it).
        let line_start = if line_start == 0 && source.starts_with('\u{FEFF}') {
            3.min(start)
        } else {
            line_start
        };
        let column = source[line_start..start].chars().count() + 1;
        let source_line = source[line_start.min(line_end)..line_end]
            .trim_start_matches('\u{FEFF}')
            .trim_end_matches('\r')
            .to_string();
        Diagnostic {
            origin: origin.to_string(),
            line,
            column,
            span: start..end,
            message: message.into(),
            rule,
            source_line,
        }
    }

    /// A diagnostic not tied to a place in the source (e.g. a file that cannot be read).
    pub fn whole_file(origin: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            origin: origin.to_string(),
            line: 1,
            column: 1,
            span: 0..0,
            message: message.into(),
            rule: None,
            source_line: String::new(),
        }
    }

    /// The one-line form `origin:line:column: message`.
    pub fn short(&self) -> String {
        format!(
            "{}:{}:{}: {}",
            self.origin, self.line, self.column, self.message
        )
    }
}

/// `s` cut to at most `max` characters, with `…` at the end when cut (for names and tokens
/// quoted in messages).
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Widest echo of a source line in a rendered diagnostic, in characters, `…` marks included.
pub const ECHO_WIDTH: usize = 120;

/// Characters of a long line shown before the error column.
const ECHO_BEFORE: usize = 40;

/// The part of `line` echoed for an error at character `first` (0-based) whose caret is `width`
/// characters wide: the text, the caret's lead (tabs kept, so the caret lines up) and the caret
/// width, clipped to the window.
fn echo(line: &str, first: usize, width: usize) -> (String, String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let n = chars.len();
    let first = first.min(n);
    let (from, to) = if n <= ECHO_WIDTH {
        (0, n)
    } else {
        // Room for a `…` at either end.
        let room = ECHO_WIDTH - 2;
        let from = first.saturating_sub(ECHO_BEFORE).min(n - room);
        (from, (from + room).min(n))
    };
    let mut text = String::new();
    let mut lead = String::new();
    if from > 0 {
        text.push('…');
        lead.push(' ');
    }
    text.extend(&chars[from..to]);
    if to < n {
        text.push('…');
    }
    lead.extend(
        chars[from..first]
            .iter()
            .map(|&c| if c == '\t' { '\t' } else { ' ' }),
    );
    let width = width.min(to.saturating_sub(first)).max(1);
    (text, lead, width)
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        let number = self.line.to_string();
        let pad = " ".repeat(number.len());
        writeln!(f, "{pad}--> {}:{}:{}", self.origin, self.line, self.column)?;
        if !self.source_line.is_empty() {
            // Caret width: the span's characters on this line, at least one.
            let first = self.column.saturating_sub(1);
            let mut bytes = 0;
            let width = self
                .source_line
                .chars()
                .skip(first)
                .take_while(|c| {
                    bytes += c.len_utf8();
                    bytes <= self.span.len()
                })
                .count()
                .max(1);
            let (text, lead, width) = echo(&self.source_line, first, width);
            writeln!(f, "{pad} |")?;
            writeln!(f, "{number} | {text}")?;
            writeln!(f, "{pad} | {lead}{}", "^".repeat(width))?;
        }
        if let Some(rule) = &self.rule {
            writeln!(f, "{pad} = rule: {rule}")?;
        }
        Ok(())
    }
}

/// All errors found in one source, in source order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The diagnostics.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// How many errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}
