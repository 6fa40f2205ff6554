//! docs/derivations.md is checked against the compiler: every ```genads block compiles, and each
//! line of the ```text block that follows it (`…` skips) appears, in order, in the model's
//! `explain` text.

use genads_dsl::explain::{render, Format};
use genads_dsl::{compile, select};

fn blocks(doc: &str, lang: &str) -> Vec<(usize, String)> {
    let fence = format!("```{lang}\n");
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = doc[at..].find(&fence) {
        let start = at + i + fence.len();
        let end = start + doc[start..].find("```").expect("closing fence");
        out.push((start, doc[start..end].to_string()));
        at = end + 3;
    }
    out
}

#[test]
fn derivations_doc_matches_explain() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/derivations.md"
    ))
    .expect("docs/derivations.md");
    let sources = blocks(&doc, "genads");
    let texts = blocks(&doc, "text");
    assert!(sources.len() >= 6, "{} models", sources.len());
    for (pos, src) in &sources {
        let m = select(
            compile(src, "derivations.md").unwrap_or_else(|d| panic!("{d}")),
            None,
        )
        .expect("one model");
        let (_, text) = texts
            .iter()
            .find(|(p, _)| p > pos)
            .unwrap_or_else(|| panic!("no text block after model {}", m.constants.name));
        let rendered = render(&m, Format::Text);
        let lines: Vec<&str> = rendered.lines().collect();
        let mut i = 0;
        for want in text.lines().filter(|l| *l != "…") {
            match lines[i..].iter().position(|l| *l == want) {
                Some(k) => i += k + 1,
                None => panic!(
                    "{}: line not in explain output (in order):\n{want}\n---\n{rendered}",
                    m.constants.name
                ),
            }
        }
    }
}
