//! The inline form: rebuilding `.genads` source text from the macro's tokens, and mapping a
//! position in that text back to the token (and its span) it came from.
//!
//! Each token is placed at its original line and column (`proc_macro::Span::line/column`, stable
//! since Rust 1.88), so the rebuilt text has the layout of the user's file (comments, which Rust
//! strips, become blanks) and DSL line numbers equal the Rust file's line numbers.

use proc_macro2::{Delimiter, Span, TokenTree};
use std::ops::Range;

/// Source rebuilt from tokens, with the byte range and span of every token.
pub(crate) struct Rebuilt {
    /// The rebuilt `.genads` source.
    pub source: String,
    ranges: Vec<Range<usize>>,
    spans: Vec<Span>,
}

impl Rebuilt {
    /// Rebuilds the source of `tokens`.
    pub fn new(tokens: &[TokenTree]) -> Rebuilt {
        let mut flat = Vec::new();
        flatten(tokens.iter().cloned(), &mut flat);
        let items: Vec<(usize, usize, String)> = flat
            .iter()
            .map(|(span, text)| {
                let s = span.unwrap();
                (s.line(), s.column(), text.clone())
            })
            .collect();
        let (source, ranges) = layout(&items);
        Rebuilt {
            source,
            ranges,
            spans: flat.into_iter().map(|(s, _)| s).collect(),
        }
    }

    /// The span of the token at byte `offset` of the rebuilt source (or the nearest token before
    /// it; the call site when there is none).
    pub fn span_at(&self, offset: usize) -> Span {
        token_at(&self.ranges, offset).map_or(Span::call_site(), |i| self.spans[i])
    }
}

fn flatten(tokens: impl Iterator<Item = TokenTree>, out: &mut Vec<(Span, String)>) {
    for t in tokens {
        match t {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                if !open.is_empty() {
                    out.push((g.span_open(), open.to_string()));
                }
                flatten(g.stream().into_iter(), out);
                if !close.is_empty() {
                    out.push((g.span_close(), close.to_string()));
                }
            }
            TokenTree::Punct(p) => out.push((p.span(), p.as_char().to_string())),
            other => out.push((other.span(), other.to_string())),
        }
    }
}

/// Lays out tokens given as (1-based line, column, text): each on its line at its column; a
/// token that would overlap the previous one (spans without real positions) gets one space.
/// Returns the text and each token's byte range.
pub(crate) fn layout(items: &[(usize, usize, String)]) -> (String, Vec<Range<usize>>) {
    let mut source = String::new();
    let mut ranges = Vec::with_capacity(items.len());
    let (mut line, mut col) = (1usize, 1usize);
    for (tl, tc, text) in items {
        if *tl > line {
            for _ in line..*tl {
                source.push('\n');
            }
            line = *tl;
            col = 1;
        }
        if *tc > col {
            source.extend(std::iter::repeat_n(' ', tc - col));
            col = *tc;
        } else if *tc < col && !source.is_empty() && !source.ends_with('\n') {
            source.push(' ');
            col += 1;
        }
        let start = source.len();
        source.push_str(text);
        ranges.push(start..source.len());
        col += text.chars().count();
    }
    (source, ranges)
}

/// Index of the token containing byte `offset`, else the last token starting before it, else the
/// first token.
pub(crate) fn token_at(ranges: &[Range<usize>], offset: usize) -> Option<usize> {
    if ranges.is_empty() {
        return None;
    }
    let before = ranges.partition_point(|r| r.start <= offset);
    Some(before.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(v: &[(usize, usize, &str)]) -> Vec<(usize, usize, String)> {
        v.iter().map(|(l, c, t)| (*l, *c, t.to_string())).collect()
    }

    #[test]
    fn layout_keeps_lines_and_columns() {
        let (src, ranges) = layout(&items(&[
            (2, 5, "model"),
            (2, 11, "m"),
            (2, 13, "{"),
            (3, 9, "radial"),
            (3, 16, "0"),
            (3, 18, "-"),
            (3, 19, ">"),
            (3, 21, "1"),
            (4, 5, "}"),
        ]));
        assert_eq!(src, "\n    model m {\n        radial 0 -> 1\n    }");
        assert_eq!(&src[ranges[3].clone()], "radial");
        assert_eq!(&src[ranges[6].clone()], ">");
    }

    #[test]
    fn layout_separates_tokens_without_positions() {
        let (src, _) = layout(&items(&[
            (1, 1, "model"),
            (1, 1, "m"),
            (1, 1, "{"),
            (1, 1, "}"),
        ]));
        assert_eq!(src, "model m { }");
    }

    #[test]
    fn token_lookup() {
        let (src, ranges) = layout(&items(&[(1, 1, "ab"), (1, 4, "cd"), (2, 3, "ef")]));
        assert_eq!(src, "ab cd\n  ef");
        assert_eq!(token_at(&ranges, 0), Some(0));
        assert_eq!(token_at(&ranges, 2), Some(0)); // the blank after `ab`
        assert_eq!(token_at(&ranges, 4), Some(1));
        assert_eq!(token_at(&ranges, 8), Some(2));
        assert_eq!(token_at(&ranges, 100), Some(2));
        assert_eq!(token_at(&[], 3), None);
    }
}
