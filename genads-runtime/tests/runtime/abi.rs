//! The ABI of generated code (`genads_runtime::abi`): its exported names are pinned here, so that a
//! change to what `genads_model!` output may name is a deliberate one; and the code generated for
//! every model of the zoo names no runtime item outside it.

/// The names `pub use`d by a Rust source (the last segment of each path, `{…}` groups expanded).
pub fn exported_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    for statement in source.split(';') {
        let Some(start) = statement.find("pub use ") else {
            continue;
        };
        let path = &statement[start + "pub use ".len()..];
        let items = match (path.find('{'), path.rfind('}')) {
            (Some(open), Some(close)) => path[open + 1..close].to_string(),
            _ => path.rsplit("::").next().unwrap_or("").to_string(),
        };
        for item in items.split(',') {
            let item = item.trim();
            if !item.is_empty() {
                names.push(item.to_string());
            }
        }
    }
    names.sort();
    names
}

#[test]
fn the_generated_code_abi_is_pinned() {
    let source = include_str!("../../src/abi.rs");
    let pinned = [
        "AffinePoint",
        "CompiledModel",
        "Constants",
        "Encoding",
        "Error",
        "Folded",
        "IntegralTable",
        "Modes",
        "PathKind",
        "PathMatrix",
        "PathSample",
        "Physics",
        "Prior",
        "PriorComponent",
        "Propagator",
        "REFERENCE_EPS",
        "RadialCoefficients",
        "Result",
        "State",
        "ads_envelope_reference",
        "bessel_k",
        "flat_envelope_reference",
        "numerical_envelope_of",
        "path_target",
        "velocity_t",
    ];
    assert_eq!(exported_names(source), pinned);
    // Each name resolves (a removed re-export fails to compile here as well).
    use genads_runtime::abi;
    let _ = (
        abi::ads_envelope_reference,
        abi::flat_envelope_reference,
        abi::bessel_k,
        abi::REFERENCE_EPS,
    );
    fn is_physics<P: abi::Physics + ?Sized>() {}
    is_physics::<dyn abi::Physics>();
}

/// Every `.genads` file under `dir`, recursively.
fn genads_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(genads_files(&path));
        } else if path.extension().is_some_and(|e| e == "genads") {
            out.push(path);
        }
    }
    out
}

#[test]
fn generated_code_names_the_runtime_only_through_the_abi() {
    let exported = exported_names(include_str!("../../src/abi.rs"));
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let mut checked = 0;
    for file in genads_files(&models) {
        let source = std::fs::read_to_string(&file).unwrap();
        let derived = genads_dsl::compile(&source, &file.display().to_string())
            .unwrap_or_else(|d| panic!("{d}"));
        for model in derived {
            let code = genads_codegen::model_source(&model, "Generated", "::rt").unwrap();
            for (at, _) in code.match_indices("::rt::") {
                let rest = &code[at + "::rt::".len()..];
                let name: String = rest
                    .strip_prefix("abi::")
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: generated code names ::rt::{}",
                            model.constants.name,
                            &rest[..40.min(rest.len())]
                        )
                    })
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    exported.contains(&name),
                    "{}: generated code names abi::{name}, which the ABI does not export",
                    model.constants.name
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} models checked");
}
