//! Bad input refused early, located and true (issue #19), one test per class: block comments
//! (unterminated ones named at their start, nesting as in Rust), a byte-order mark, long source
//! lines echoed in a window, Unicode names (NFC, invisible characters named by code point), and
//! messages that must say what is true (Δ = d/2, ω overflowing, -0).

use genads_dsl::{compile, Diagnostic};

const OK: &str = "boundary 2 warp exp(r) radial 0 -> 1 field delta 1.5 backbone off path linear";

/// The first diagnostic of a refused source.
fn refused(source: &str) -> Diagnostic {
    match compile(source, "t.genads") {
        Ok(m) => panic!("accepted ({} models):\n{source}", m.len()),
        Err(d) => d.0[0].clone(),
    }
}

/// `line:col: message` of the first diagnostic.
fn first(source: &str) -> String {
    let d = refused(source);
    format!("{}:{}: {}", d.line, d.column, d.message)
}

fn signature(source: &str) -> String {
    match compile(source, "t.genads") {
        Ok(m) => m[0].constants.signature.clone(),
        Err(d) => panic!("{source}\n{d}"),
    }
}

#[test]
fn unterminated_block_comments_are_named_at_their_opening() {
    let rule =
        "a `/*` comment ends at its matching `*/`; block comments nest as in Rust, so every \
                `/*` inside one needs its own `*/`";
    for (source, want) in [
        (format!("model m {{ {OK} }} /* unterminated"), "1:91"),
        (format!("model m {{\n  {OK}\n  /* a comment\n}}\n"), "3:3"),
        // A nested comment closes, the outer one does not: the outer one is named.
        (
            format!("model m {{ {OK} }}\n/* outer /* inner */ still open"),
            "2:1",
        ),
        // Inside an expression, where the grammar would have wanted an operand.
        (format!("model m {{ {OK} lift 1 + /*"), "1:98"),
        // A `/*` in a line comment opens nothing; the next line's does.
        (format!("// not here: /*\nmodel m {{ {OK} }} /*"), "2:91"),
    ] {
        let d = refused(&source);
        assert_eq!(
            format!("{}:{}: {}", d.line, d.column, d.message),
            format!("{want}: unterminated block comment"),
            "{source}"
        );
        assert_eq!(d.rule.as_deref(), Some(rule));
        assert_eq!(&source[d.span.clone()], "/*");
    }
}

#[test]
fn block_comments_nest_as_in_rust() {
    let plain = format!("model m {{ {OK} }}");
    for source in [
        format!("model m {{ /* a /* b */ c */ {OK} }}"),
        format!("/* /* */ */ model m {{ {OK} }}"),
        format!(
            "model m {{ boundary 2 /* x /* y /* z */ */ */ {} }}",
            &OK["boundary 2 ".len()..]
        ),
        format!("model m {{ {OK} }} /* // a line comment inside a block one */"),
        format!("model m {{ {OK} /**/ /***/ /* * / */ }}"),
        format!("{}{}model m {{ {OK} }}", "/*".repeat(64), "*/".repeat(64)),
    ] {
        assert_eq!(signature(&source), signature(&plain), "{source}");
    }
    // Deeper than the nesting limit: refused at the `/*` that goes too deep.
    let deep = format!("{}{}model m {{ {OK} }}", "/*".repeat(65), "*/".repeat(65));
    assert_eq!(
        first(&deep),
        "1:129: block comments nested deeper than 64 levels"
    );
    // A stray `*/` is not a comment.
    assert_eq!(
        first(&format!("model m {{ {OK} */ }}")),
        "1:89: expected a statement (param, boundary, warp, radial, field, backbone, path, prior, encoding, loss), `}` or `;`, found `*`"
    );
}

#[test]
fn a_leading_byte_order_mark_is_skipped() {
    let plain = format!("model m {{ {OK} }}");
    let bom = format!("\u{FEFF}{plain}");
    assert_eq!(signature(&bom), signature(&plain));
    // Columns on line 1 are the editor's (the mark is not shown), spans are byte offsets into the
    // source as given, and the echoed line has no mark.
    let bad = format!("\u{FEFF}model m {{ {OK} }}").replace("1.5", "0.8");
    let d = refused(&bad);
    assert_eq!((d.line, d.column), (1, 60));
    assert_eq!(&bad[d.span.clone()], "0.8");
    assert!(!d.source_line.contains('\u{FEFF}'));
    let rendered = d.to_string();
    let lines: Vec<&str> = rendered.lines().collect();
    assert_eq!(lines[3].find("0.8"), lines[4].find('^'), "{rendered}");
    // Anywhere else it is an invisible character.
    assert_eq!(
        first(&format!("model m {{ {OK} }}\u{FEFF}")),
        "1:90: U+FEFF ZERO WIDTH NO-BREAK SPACE (byte-order mark), an invisible character, is not allowed here"
    );
}

#[test]
fn long_lines_are_echoed_in_a_bounded_window() {
    // A 20 KB line with an error at its start, in its middle and at its end.
    let filler = format!("/* {} */ ", "x".repeat(20_000));
    for source in [
        format!("model m {{ boundary q {filler}warp exp(r) radial 0 -> 1 field delta 1.5 backbone off path linear }}"),
        format!("model m {{ boundary 2 {filler}warp exp(q * r) {filler}radial 0 -> 1 field delta 1.5 backbone off path linear }}"),
        format!("model m {{ {filler}{OK} encoding propagator lift q }}"),
    ] {
        assert!(source.len() > 20_000);
        let d = refused(&source);
        assert_eq!(d.message, "unknown identifier `q`");
        let rendered = d.to_string();
        let lines: Vec<&str> = rendered.lines().collect();
        let (echo, caret) = (lines[3], lines[4]);
        let width = |s: &str| s.chars().count();
        assert!(width(echo) <= "1 | ".len() + 120, "{rendered}");
        // The caret sits under the offending text.
        let at = caret.find('^').expect("a caret");
        let under: String = echo.chars().skip(width(&caret[..at])).take(1).collect();
        let want = source[d.span.clone()].chars().next().map(String::from);
        assert_eq!(Some(under), want, "{rendered}");
        // Cut ends are marked.
        let body = &echo["1 | ".len()..];
        assert!(body.starts_with('…') == (d.column > 41), "{rendered}");
        let shown = body.trim_start_matches('…');
        assert_eq!(body.ends_with('…'), !source.ends_with(shown), "{rendered}");
    }
    // A short line is echoed whole.
    let d = refused(&format!("model m {{ {OK} }}").replace("1.5", "0.8"));
    assert!(!d.to_string().contains('…'));
    // A long name is not quoted whole either.
    let long = "x".repeat(20_000);
    let d = refused(
        &format!("model m {{ {OK} lift {long} }}").replace(" lift", " encoding propagator lift"),
    );
    assert!(d.message.len() < 200, "{}", d.message);
    assert!(d.message.starts_with("unknown identifier `xxx"));
}

#[test]
fn names_are_nfc_normalised() {
    // é composed (U+00E9) and decomposed (e + U+0301) are one name: the models collide.
    let source = format!("model \u{e9} {{ {OK} }}\nmodel e\u{301} {{ {OK} }}\n");
    let d = refused(&source);
    assert_eq!(
        format!("{}:{}: {}", d.line, d.column, d.message),
        "2:7: model name `\u{e9}` is already taken"
    );
    assert_eq!(
        d.rule.as_deref(),
        Some("model names are unique in a file, sweep members included (first at line 1)")
    );
    // A parameter declared in one form is found in the other, and declared twice in both.
    let m = compile(
        &format!("model m {{ param \u{e9} = 1 {OK} }}").replace("exp(r)", "exp(e\u{301} * r)"),
        "t",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(m[0].params, vec![("\u{e9}".to_string(), 1.0)]);
    assert_eq!(
        first(&format!(
            "model m {{ param e\u{301} = 1 param \u{e9} = 2 {OK} }}"
        )),
        "1:30: parameter `\u{e9}` is declared twice"
    );
}

#[test]
fn invisible_and_unusual_characters_are_refused_and_named() {
    let rule = "outside comments a source holds visible characters, spaces, tabs and line breaks \
                only: invisible characters would make equal-looking names and text differ";
    let names = [
        ('\u{200B}', "U+200B ZERO WIDTH SPACE"),
        ('\u{200C}', "U+200C ZERO WIDTH NON-JOINER"),
        ('\u{200D}', "U+200D ZERO WIDTH JOINER"),
        (
            '\u{FEFF}',
            "U+FEFF ZERO WIDTH NO-BREAK SPACE (byte-order mark)",
        ),
        ('\u{2060}', "U+2060 WORD JOINER"),
        ('\u{00AD}', "U+00AD SOFT HYPHEN"),
        ('\u{FE0F}', "U+FE0F VARIATION SELECTOR-16"),
        ('\u{3164}', "U+3164 HANGUL FILLER"),
        ('\u{202E}', "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ('\u{E0041}', "U+E0041"),
    ];
    for (c, name) in names {
        // Inside a model name, a parameter name and a name in an expression; after a name.
        for (source, at) in [
            (format!("model a{c}b {{ {OK} }}"), "1:8"),
            (format!("model m {{\n  param p{c} = 1\n  {OK} }}"), "2:10"),
            (
                format!("model m {{ {OK} }}").replace("exp(r)", &format!("exp({c}r)")),
                "1:31",
            ),
            (format!("model m{c} {{ {OK} }}"), "1:8"),
        ] {
            let d = refused(&source);
            assert_eq!(
                format!("{}:{}: {}", d.line, d.column, d.message),
                format!("{at}: the name contains {name}, an invisible character"),
                "{source:?}"
            );
            assert_eq!(d.rule.as_deref(), Some(rule));
            assert_eq!(source[d.span.clone()].chars().collect::<Vec<_>>(), [c]);
        }
        // Between tokens.
        assert_eq!(
            first(&format!("model m {{ {OK} {c}}}")),
            format!("1:89: {name}, an invisible character, is not allowed here"),
        );
        // In comments anything goes.
        signature(&format!("// a{c}b\nmodel m {{ /* {c} */ {OK} }}"));
    }
    assert_eq!(
        first(&format!("model m {{ {OK}\u{A0}}}")),
        "1:88: U+00A0 NO-BREAK SPACE, a space character the language does not use (only space and tab), is not allowed here"
    );
    assert_eq!(
        first(&format!("model m\u{0} {{ {OK} }}")),
        "1:8: the name contains U+0000 NULL, a control character"
    );
    assert_eq!(
        first(&format!("model m {{ {OK} \u{C}}}")),
        "1:89: U+000C FORM FEED, a control character, is not allowed here"
    );
}

#[test]
fn messages_say_what_is_true() {
    let with = |from: &str, to: &str| format!("model m {{ {OK} }}").replace(from, to);
    // Δ = d/2 is not "below" d/2.
    let d = refused(&with("1.5", "1"));
    assert_eq!(d.message, "scaling dimension too small");
    assert!(
        d.rule
            .as_deref()
            .is_some_and(|r| r.starts_with("Δ = 1 must be above d/2 = 1: ")),
        "{d}"
    );
    // ω = f^d overflowing is not a warp that "is not smooth".
    assert_eq!(
        first(&with("exp(r)", "exp(1000 * r)")),
        "1:27: ω = f^d overflows at r = 0.355: f(0.355) = 1.49466e154"
    );
    // A radial span beyond the f64 range is named as such (it gave "warp factor is not finite at
    // r = NaN"), and a flat warp on a huge range is proved positive (interval bounds beyond
    // f64::MAX / 4 used to overflow: "cannot be proven finite and positive near r = 4.49423e307").
    let d = refused(&with("radial 0 -> 1", "radial -1e308 -> 1e308"));
    assert_eq!(
        (d.message.as_str(), d.rule.as_deref()),
        (
            "radial range too wide",
            Some("r_UV - r_IR = 1e308 - (-1e308) is beyond the f64 range: the radial span must be a finite number")
        )
    );
    for range in ["radial 0 -> 1e308", "radial -1e308 -> 1"] {
        signature(&with("radial 0 -> 1", range).replace("exp(r)", "1"));
    }
    // Huge numbers are quoted in scientific form, not as 309 digits.
    assert_eq!(
        first(&with("boundary 2", "boundary 1e300")),
        "1:20: boundary dimension 1e300 is not supported"
    );
    // A zero is printed without its sign.
    assert_eq!(
        first(&with("exp(r)", "-0")),
        "1:27: warp factor f(0) = 0 is not positive"
    );
}
