//! Markdown reports: one section per study (command, seeds, budget, tables, plots) and the
//! paper's claims set beside the measured numbers. Every verdict is computed from the data.

use std::fmt::Write as _;

use super::aggregate::{markdown_table, metric_title, Collected, ModelSummary};
use super::plots::{sweep_value, Plot};
use super::spec::Study;

/// The physics-informed checkerboard models of the paper (§8.1 #1–#3).
pub const PHYSICS_MODELS: [&str; 3] = ["ads_kg_hermite", "ads_kg_linear", "ads_linear"];
/// The physics-free baseline (§8.1 #4).
pub const BASELINE: &str = "baseline";

/// One study with its aggregated results and plots, as the report shows it.
pub struct Section<'a> {
    /// The study.
    pub study: &'a Study,
    /// Its finished cells.
    pub collected: &'a Collected,
    /// Plots, with file names relative to `plot_dir`.
    pub plots: Vec<Plot>,
    /// How the markdown links the plots (directory relative to the markdown file).
    pub plot_dir: String,
    /// The command that runs (or collects) the study.
    pub command: String,
}

/// The markdown section of one study (heading level `##`).
pub fn study_section(sec: &Section<'_>) -> String {
    let st = sec.study;
    let c = sec.collected;
    let mut s = String::new();
    let _ = writeln!(s, "## Study `{}`\n", st.name);
    if let Some(d) = &st.description {
        let _ = writeln!(s, "{}\n", d.trim());
    }
    let _ = writeln!(s, "- command: `{}`", sec.command);
    let _ = writeln!(s, "- study file: `{}`", st.path.display());
    let _ = writeln!(
        s,
        "- data `{}`, preset `{}`, budget: {}",
        st.data,
        st.preset,
        st.budget.describe()
    );
    let seeds: Vec<String> = st.seeds.iter().map(|x| x.to_string()).collect();
    let _ = writeln!(s, "- seeds: {}", seeds.join(", "));
    let mut networks: Vec<String> = Vec::new();
    for cell in &c.cells {
        let line = format!(
            "{}: {}",
            st.members[cell.member].name,
            cell.network.as_deref().unwrap_or("not recorded")
        );
        if !networks.contains(&line) {
            networks.push(line);
        }
    }
    if !networks.is_empty() {
        let _ = writeln!(s, "- networks (run.json): {}", networks.join("; "));
    }
    let e = &st.eval;
    let opt = |x: Option<String>| x.unwrap_or_else(|| "`genads train` default".into());
    let _ = writeln!(
        s,
        "- evaluation: every {} steps with {} samples, final {} samples, RK4 with {} steps (EMA weights)",
        opt(e.eval_every.map(|x| x.to_string())),
        opt(e.eval_samples.map(|x| x.to_string())),
        opt(e.final_samples.map(|x| x.to_string())),
        opt(e.eval_steps.map(|x| x.to_string())),
    );
    let _ = writeln!(
        s,
        "- cells finished: {} of {}",
        c.cells.len(),
        st.cells.len()
    );
    if !c.missing.is_empty() {
        let list: Vec<String> = c
            .missing
            .iter()
            .map(|(l, why)| format!("{l} ({why})"))
            .collect();
        let _ = writeln!(s, "- missing: {}", list.join("; "));
    }
    let _ = writeln!(
        s,
        "\nFinal metrics (eval.json: EMA weights, final samples vs the first training points; images: vs the test split, the `real` columns scoring as many training images against it), mean ± sample std over seeds (a single seed shows its value); `train s` is training wall-clock without evaluation; thresholds read from the evaluations during training (metrics.jsonl).\n"
    );
    if c.models.is_empty() {
        let _ = writeln!(s, "No finished cells.\n");
    } else {
        s.push_str(&markdown_table(&c.models));
        s.push('\n');
    }
    for p in &sec.plots {
        let _ = writeln!(s, "![{}]({}/{})\n", p.caption, sec.plot_dir, p.file);
    }
    s
}

fn fmt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.4}")).unwrap_or_else(|| "–".into())
}

/// The model called `name` in the checkerboard zoo, or `mnist_<name>` in models/mnist/.
fn find<'a>(models: &'a [ModelSummary], name: &str) -> Option<&'a ModelSummary> {
    models
        .iter()
        .find(|m| m.name == name || m.name.strip_prefix("mnist_") == Some(name))
}

/// Note on statistical power appended to verdicts from a study with one seed.
fn seed_note(study: &Study) -> &'static str {
    if study.seeds.len() < 2 {
        " (one seed: differences smaller than the seed-to-seed spread cannot be told apart)"
    } else {
        ""
    }
}

/// The claims section: each claim of PAPER.md §8.3 with what the given studies measured.
pub fn claims_section(sections: &[Section<'_>]) -> String {
    let mut s = String::from("## The paper's claims beside our measurements\n\n");
    s.push_str(
        "Computed by `genads study --report` from the tables above; CQS = JS_cell + BV + WED_norm (PAPER.md §7.1). Budgets are CPU-minute budgets, far below the paper's 100 epochs: a verdict holds for the stated budget only.\n\n",
    );
    let four = sections.iter().find(|sec| {
        find(&sec.collected.models, BASELINE).is_some()
            && PHYSICS_MODELS
                .iter()
                .any(|p| find(&sec.collected.models, p).is_some())
            && sec.study.data == genads_runtime::experiment::DataSet::Checkerboard
    });
    match four {
        Some(sec) => {
            s.push_str(&convergence_claims(sec));
        }
        None => s.push_str(
            "### Faster convergence than physics-free flow matching; sharp early BV drop; linear path + full velocity fastest\n\nNot measured: no checkerboard study in this report has `baseline` and a physics-informed model finished.\n\n",
        ),
    }
    s.push_str(&delta_claim(sections));
    s.push_str(&geometry_claim(sections));
    s.push_str(&mnist_claim(sections));
    s
}

fn convergence_claims(sec: &Section<'_>) -> String {
    let models = &sec.collected.models;
    let st = sec.study;
    let mut s = String::new();
    let Some(base) = find(models, BASELINE) else {
        return s;
    };
    let phys: Vec<&ModelSummary> = PHYSICS_MODELS
        .iter()
        .filter_map(|p| find(models, p))
        .collect();
    let note = seed_note(st);
    let _ = writeln!(
        s,
        "### Claim 1: GenAdS reaches sample quality faster than physics-free flow matching\n"
    );
    let _ = writeln!(
        s,
        "Paper (§8.3): the GenAdS variants reach the quality thresholds in fewer epochs and less wall-clock than the matched physics-free network. Measured in study `{}` ({}, seeds {:?}): mean CQS at each evaluation (lowest in the last column).\n",
        st.name,
        st.budget.describe(),
        st.seeds
    );
    let mut head = vec!["step".to_string(), BASELINE.to_string()];
    head.extend(phys.iter().map(|m| m.name.clone()));
    head.push("lowest CQS".into());
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
    let steps: Vec<u64> = base.curve.iter().map(|(step, _, _)| *step).collect();
    let mut phys_wins = 0;
    let mut compared = 0;
    for &step in &steps {
        let b = base.at_step(step, "cqs");
        let ps: Vec<Option<f64>> = phys.iter().map(|m| m.at_step(step, "cqs")).collect();
        let mut all: Vec<(&str, f64)> = Vec::new();
        if let Some(b) = b {
            all.push((BASELINE, b));
        }
        for (m, v) in phys.iter().zip(&ps) {
            if let Some(v) = v {
                all.push((m.name.as_str(), *v));
            }
        }
        let best = all
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|x| x.0.to_string())
            .unwrap_or_else(|| "–".into());
        if let (Some(b), Some(p)) = (
            b,
            ps.iter().flatten().copied().min_by(|a, b| a.total_cmp(b)),
        ) {
            compared += 1;
            if p < b {
                phys_wins += 1;
            }
        }
        let mut row = vec![step.to_string(), fmt(b)];
        row.extend(ps.iter().map(|v| fmt(*v)));
        row.push(best);
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    s.push('\n');
    for (t_idx, t) in base.thresholds.iter().enumerate() {
        let mut parts = Vec::new();
        let mut fastest: Option<(String, f64, f64)> = None;
        for m in std::iter::once(base).chain(phys.iter().copied()) {
            let Some(mt) = m.thresholds.get(t_idx) else {
                continue;
            };
            match (&mt.steps, &mt.wall_s) {
                (Some(steps), Some(wall)) if mt.reached > 0 => {
                    parts.push(format!(
                        "{} at step {:.0} ({:.1} s, {}/{} seeds)",
                        m.name, steps.mean, wall.mean, mt.reached, mt.seeds
                    ));
                    if mt.reached == mt.seeds && fastest.as_ref().is_none_or(|f| wall.mean < f.2) {
                        fastest = Some((m.name.clone(), steps.mean, wall.mean));
                    }
                }
                _ => parts.push(format!("{} not within the budget", m.name)),
            }
        }
        let verdict = match &fastest {
            Some((name, _, _)) if name == BASELINE => {
                "does not hold at this budget: the baseline is first".to_string()
            }
            Some((name, _, _)) => format!("holds at this budget: {name} is first in wall-clock"),
            None => "undecided: no model reached it on every seed".into(),
        };
        let _ = writeln!(
            s,
            "- Threshold {} ≤ {}: {}. **Verdict: {verdict}**{note}.",
            metric_title(&t.metric),
            t.value,
            parts.join("; ")
        );
    }
    let final_step = steps.last().copied();
    // Per physics-informed model: at how many evaluations its CQS is below the baseline's.
    let per_model: Vec<String> = phys
        .iter()
        .map(|m| {
            let (wins, n) = steps.iter().fold((0, 0), |(w, n), &step| {
                match (m.at_step(step, "cqs"), base.at_step(step, "cqs")) {
                    (Some(p), Some(b)) => (w + usize::from(p < b), n + 1),
                    _ => (w, n),
                }
            });
            format!("{} {wins} of {n}", m.name)
        })
        .collect();
    let verdict = if compared == 0 {
        "not measured".to_string()
    } else if phys_wins == compared {
        format!("holds for the best physics-informed model at every evaluation ({compared} of {compared})")
    } else if phys_wins == 0 {
        format!("does not hold: the baseline has the lowest CQS at all {compared} evaluations")
    } else {
        format!("mixed: a physics-informed model has a lower CQS than the baseline at {phys_wins} of {compared} evaluations")
    };
    let _ = writeln!(
        s,
        "- CQS at equal steps: **{verdict}**{note}. Evaluations with a lower CQS than the baseline, per model: {}. Final evaluation (step {}): baseline CQS {}, {}.\n",
        per_model.join(", "),
        final_step.map(|x| x.to_string()).unwrap_or_else(|| "–".into()),
        fmt(base.final_mean("cqs")),
        phys.iter()
            .map(|m| format!("{} {}", m.name, fmt(m.final_mean("cqs"))))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        s,
        "- Equal steps are not equal time: training seconds for the whole budget: {}. The wall-clock plot and the seconds-to-threshold columns compare at equal time.\n",
        std::iter::once(base)
            .chain(phys.iter().copied())
            .map(|m| format!("{} {}", m.name, m.wall_s.map(|w| format!("{:.1} s", w.mean)).unwrap_or_else(|| "–".into())))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let _ = writeln!(s, "### Claim 2: a sharp early drop in boundary violation\n");
    match steps.first() {
        Some(&first) => {
            let b = base.at_step(first, "bv");
            let lower: Vec<&str> = phys
                .iter()
                .filter(|m| matches!((m.at_step(first, "bv"), b), (Some(p), Some(b)) if p < b))
                .map(|m| m.name.as_str())
                .collect();
            let values: Vec<String> = std::iter::once(base)
                .chain(phys.iter().copied())
                .map(|m| format!("{} {}", m.name, fmt(m.at_step(first, "bv"))))
                .collect();
            let verdict = if lower.len() == phys.len() && !phys.is_empty() {
                "holds: every physics-informed model has a lower BV than the baseline at the first evaluation".to_string()
            } else if lower.is_empty() {
                "does not hold: no physics-informed model has a lower BV than the baseline at the first evaluation".to_string()
            } else {
                format!(
                    "partly: lower BV than the baseline at the first evaluation for {}",
                    lower.join(", ")
                )
            };
            let _ = writeln!(
                s,
                "Paper: the physics-informed models show a sharp early decrease in BV. Measured BV at the first evaluation (step {first}): {}. **Verdict: {verdict}**{note}.\n",
                values.join(", ")
            );
        }
        None => s.push_str("Not measured: the baseline has no evaluations during training.\n\n"),
    }

    let _ = writeln!(
        s,
        "### Claim 3: the fastest combination is the linear path with the full-velocity loss (`ads_linear`)\n"
    );
    let best = phys
        .iter()
        .filter_map(|m| m.final_mean("cqs").map(|v| (m.name.as_str(), v)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    match best {
        Some((name, v)) => {
            let verdict = if name == "ads_linear" {
                "holds"
            } else {
                "does not hold"
            };
            let _ = writeln!(
                s,
                "Lowest final CQS among the physics-informed models: {name} ({v:.4}). **Verdict: {verdict} at this budget**{note}.\n"
            );
        }
        None => s.push_str("Not measured: no physics-informed model finished.\n\n"),
    }
    s
}

fn delta_claim(sections: &[Section<'_>]) -> String {
    let mut s = String::from("### Claim 4: Δ ≈ 1.5 is best\n\n");
    let found = sections.iter().find_map(|sec| {
        let pts: Vec<(f64, &ModelSummary)> = sec
            .collected
            .models
            .iter()
            .filter_map(|m| sweep_value(&m.name, "delta").map(|v| (v, m)))
            .collect();
        (pts.len() >= 2).then_some((sec, pts))
    });
    let Some((sec, mut pts)) = found else {
        s.push_str(
            "Not measured: no study in this report has two or more finished Δ-sweep members.\n\n",
        );
        return s;
    };
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut lines = Vec::new();
    for metric in ["cqs", "bv"] {
        let values: Vec<String> = pts
            .iter()
            .map(|(d, m)| format!("Δ {d}: {}", fmt(m.final_mean(metric))))
            .collect();
        let best = pts
            .iter()
            .filter_map(|(d, m)| m.final_mean(metric).map(|v| (*d, v)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let verdict = match best {
            Some((d, _)) if (d - 1.5).abs() < 1e-9 => "holds: Δ = 1.5 is lowest".to_string(),
            Some((d, _)) => format!("does not hold: Δ = {d} is lowest"),
            None => "not measured".into(),
        };
        lines.push(format!(
            "- final {}: {}. **Verdict: {verdict}**{}.",
            metric_title(metric),
            values.join(", "),
            seed_note(sec.study)
        ));
    }
    let _ = writeln!(
        s,
        "Paper: performance improves as the scalar mass decreases; Δ ≈ 1.5 is best. Measured in study `{}` ({}):\n\n{}\n",
        sec.study.name,
        sec.study.budget.describe(),
        lines.join("\n")
    );
    s
}

fn geometry_claim(sections: &[Section<'_>]) -> String {
    let mut s = String::from("### Claim 5: AdS is better than HSV and flat geometries\n\n");
    let found = sections.iter().find_map(|sec| {
        let ms = &sec.collected.models;
        let others: Vec<&ModelSummary> = ms
            .iter()
            .filter(|m| m.name.starts_with("hsv_scan") || m.name == "flat")
            .collect();
        let ads: Vec<&ModelSummary> = ms
            .iter()
            .filter(|m| m.name.starts_with("ads") || m.name == "delta_sweep_delta1.5")
            .collect();
        (!others.is_empty() && !ads.is_empty()).then_some((sec, ads, others))
    });
    let Some((sec, ads, others)) = found else {
        s.push_str("Not measured: no study in this report has an AdS model beside finished HSV or flat models.\n\n");
        return s;
    };
    let show = |ms: &[&ModelSummary]| {
        ms.iter()
            .map(|m| format!("{} {}", m.name, fmt(m.final_mean("cqs"))))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let best_ads = ads
        .iter()
        .filter_map(|m| m.final_mean("cqs"))
        .min_by(|a, b| a.total_cmp(b));
    let beaten_by: Vec<&str> = others
        .iter()
        .filter(|m| matches!((m.final_mean("cqs"), best_ads), (Some(o), Some(a)) if o <= a))
        .map(|m| m.name.as_str())
        .collect();
    let verdict = if best_ads.is_none() {
        "not measured".to_string()
    } else if beaten_by.is_empty() {
        "holds: AdS has the lowest final CQS".to_string()
    } else {
        format!("does not hold: {} match or beat AdS", beaten_by.join(", "))
    };
    let _ = writeln!(
        s,
        "Paper: AdS outperforms every tested HSV model. Measured final CQS in study `{}` ({}): AdS: {}; others: {}. **Verdict: {verdict}**{}.\n",
        sec.study.name,
        sec.study.budget.describe(),
        show(&ads),
        show(&others),
        seed_note(sec.study)
    );
    s
}

fn mnist_claim(sections: &[Section<'_>]) -> String {
    let mut s = String::from("### Claim 6: the Hermite + KG model is worse on MNIST\n\n");
    let found = sections.iter().find(|sec| {
        sec.study.data == genads_runtime::experiment::DataSet::Mnist
            && find(&sec.collected.models, "ads_kg_hermite").is_some()
            && sec.collected.models.len() >= 2
    });
    let Some(sec) = found else {
        s.push_str("Not measured: no MNIST study in this report has `ads_kg_hermite` and another model finished.\n\n");
        return s;
    };
    let ms = &sec.collected.models;
    let metric = if ms.iter().all(|m| m.final_mean("fid").is_some()) {
        "fid"
    } else {
        "bpm"
    };
    let values: Vec<String> = ms
        .iter()
        .map(|m| format!("{} {}", m.name, fmt(m.final_mean(metric))))
        .collect();
    let hermite = find(ms, "ads_kg_hermite").and_then(|m| m.final_mean(metric));
    let others_best = ms
        .iter()
        .filter(|m| m.name != "ads_kg_hermite" && m.name != "mnist_ads_kg_hermite")
        .filter_map(|m| m.final_mean(metric))
        .min_by(|a, b| a.total_cmp(b));
    let verdict = match (hermite, others_best) {
        (Some(h), Some(o)) if h > o => "holds: another model has a lower score",
        (Some(_), Some(_)) => "does not hold: ads_kg_hermite has the lowest score",
        _ => "not measured",
    };
    let _ = writeln!(
        s,
        "Paper: FID ≈ 38 for AdS + KG (Hermite) vs ≈ 22 for the AdS linear model. Measured final {} in study `{}` ({}): {}. **Verdict: {verdict}**{}.\n",
        metric_title(metric),
        sec.study.name,
        sec.study.budget.describe(),
        values.join(", "),
        seed_note(sec.study)
    );
    s
}
