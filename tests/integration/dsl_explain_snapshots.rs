//! insta snapshots of `explain` (text and LaTeX) for every model in models/. A change in the
//! derivation or its printing shows up here as a reviewed snapshot diff.

use genads::dsl::explain::{render, Format};
use std::path::Path;

fn zoo() -> Vec<(String, Vec<genads::dsl::Derived>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("models/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "genads"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let stem = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let models = genads::dsl::compile_file(&p).unwrap_or_else(|d| panic!("{d}"));
            (stem, models)
        })
        .collect()
}

#[test]
fn explain_text_of_every_model() {
    for (stem, models) in zoo() {
        let text: Vec<String> = models.iter().map(|m| render(m, Format::Text)).collect();
        insta::assert_snapshot!(format!("dsl_explain_text_{stem}"), text.join("\n"));
    }
}

#[test]
fn explain_latex_of_every_model() {
    for (stem, models) in zoo() {
        let text: Vec<String> = models.iter().map(|m| render(m, Format::Latex)).collect();
        insta::assert_snapshot!(format!("dsl_explain_latex_{stem}"), text.join("\n"));
    }
}
