//! `explain --format latex` is real TeX: the `align*` block and the inline `$…$` formulas of every
//! model in models/ and of user warps (hyperbolic, rational, power-law) parse with KaTeX
//! (`throwOnError`), run with the machine's node.
//!
//! KaTeX is an npm package installed by `.ci/run` (`npm install --prefix target/katex
//! katex@0.16.22`); set `GENADS_KATEX` to another `node_modules/katex` directory if needed. Without
//! it the test says so and passes, except under `CI=true`, where it fails.

use genads_dsl::explain::{render, Format};
use genads_dsl::{compile, compile_file, Derived};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn katex_dir() -> PathBuf {
    match std::env::var_os("GENADS_KATEX") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/katex/node_modules/katex"),
    }
}

/// The formulas of a LaTeX explanation: the align* block (display) and each inline `$…$`.
fn formulas(latex: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    if let (Some(a), Some(b)) = (latex.find("\\begin{align*}"), latex.find("\\end{align*}")) {
        out.push((latex[a..b + "\\end{align*}".len()].to_string(), true));
    }
    for line in latex.lines().filter(|l| l.starts_with('%')) {
        let parts: Vec<&str> = line.split('$').collect();
        for (i, p) in parts.iter().enumerate() {
            if i % 2 == 1 {
                out.push((p.to_string(), false));
            }
        }
    }
    out
}

const SCRIPT: &str = r#"
const katex = require(process.argv[1]);
let input = '';
process.stdin.on('data', d => input += d);
process.stdin.on('end', () => {
  const items = JSON.parse(input);
  let bad = 0;
  for (const [tex, display, origin] of items) {
    try { katex.renderToString(tex, { throwOnError: true, displayMode: display, strict: 'error' }); }
    catch (e) { bad++; console.log(origin + ': ' + e.message + '\n' + tex + '\n'); }
  }
  console.log('katex: ' + (items.length - bad) + ' parsed, ' + bad + ' failed');
  process.exit(bad ? 1 : 0);
});
"#;

fn zoo() -> Vec<Derived> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let mut files: Vec<PathBuf> = Vec::new();
    for sub in [dir.clone(), dir.join("mnist")] {
        if let Ok(entries) = std::fs::read_dir(&sub) {
            files.extend(
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "genads")),
            );
        }
    }
    files.sort();
    assert!(files.len() >= 8, "models/ not found");
    files
        .iter()
        .flat_map(|f| compile_file(f).unwrap_or_else(|d| panic!("{d}")))
        .collect()
}

/// User warps of each kind, with ranges where they are finite and positive.
const USER: [(&str, &str); 12] = [
    ("sinh(r)", "0.5 -> 1.5"),
    ("cosh(r)", "0 -> 1"),
    ("tanh(r)", "0.5 -> 2"),
    ("coth(r)", "2 -> 0.5"),
    ("sech(r) * exp(2 * r)", "0 -> 1"),
    ("csch(r)^(-1) * cosh(r)", "0.5 -> 1"),
    ("1 + exp(r)", "0 -> 1"),
    ("(1 + r^2) / r", "1 -> 2"),
    ("r * (1 + r)", "0.5 -> 1.5"),
    ("(0.3 * r)^(-7/3)", "3 -> 2"),
    ("r^(-1/2) + 1e-9 * r", "2 -> 1"),
    ("log(2 + r) * sqrt(1 + r) / 3", "0 -> 1"),
];

#[test]
fn latex_of_the_zoo_and_user_warps_parses_with_katex() {
    let mut items: Vec<(String, bool, String)> = Vec::new();
    let mut push = |m: &Derived| {
        for (tex, display) in formulas(&render(m, Format::Latex)) {
            items.push((tex, display, m.constants.name.clone()));
        }
    };
    for m in zoo() {
        push(&m);
    }
    for (warp, radial) in USER {
        for (field, backbone) in [
            ("delta 1.5", "klein_gordon stabilised"),
            ("massless", "klein_gordon raw"),
        ] {
            let src = format!(
                "model user {{ boundary 2 warp {warp} radial {radial} field {field} \
                 backbone {backbone} path hermite encoding none }}"
            );
            let models = compile(&src, "user").unwrap_or_else(|d| panic!("{warp}: {d}"));
            for m in &models {
                let mut m = m.clone();
                m.constants.name = format!("user `{warp}`");
                push(&m);
            }
        }
    }
    assert!(items.len() > 40, "{} formulas", items.len());

    let dir = katex_dir();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !dir.join("package.json").exists() {
        assert!(
            !ci,
            "KaTeX is missing at {} under CI=true: .ci/run installs it (npm install --prefix target/katex katex@0.16.22)",
            dir.display()
        );
        eprintln!(
            "skipped: KaTeX not installed at {} (npm install --prefix target/katex katex@0.16.22)",
            dir.display()
        );
        return;
    }
    let json = serde_json::to_string(&items).expect("json");
    let child = Command::new("node")
        .arg("-e")
        .arg(SCRIPT)
        .arg(dir.canonicalize().unwrap_or(dir.clone()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(!ci, "node cannot be run under CI=true: {e}");
            eprintln!("skipped: node not available ({e})");
            return;
        }
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(json.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "KaTeX refused some formulas:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("katex: {} parsed, 0 failed", items.len())),
        "{stdout}"
    );
}

#[test]
fn katex_rejects_broken_tex() {
    // The harness can fail: an unbalanced brace is refused.
    let dir = katex_dir();
    if !dir.join("package.json").exists() {
        return;
    }
    let json = serde_json::to_string(&vec![(
        "\\frac{1}{r".to_string(),
        false,
        "broken".to_string(),
    )])
    .expect("json");
    let mut child = Command::new("node")
        .arg("-e")
        .arg(SCRIPT)
        .arg(dir.canonicalize().unwrap_or(dir.clone()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(json.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("node");
    assert!(!out.status.success());
}
