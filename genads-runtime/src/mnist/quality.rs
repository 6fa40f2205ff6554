//! Sample quality of generated images on the metric classifier's features: FID, KID, improved
//! precision/recall (k = 3) and the histogram of predicted classes, always beside the real-vs-real
//! reference (training images against the same test images).

use super::classifier::Classifier;
use super::dataset::ImageSet;
use super::features::Features;
use super::fid::{fid, fid_standard_error, FID_BOOTSTRAP};
use super::kid::{kid, Kid};
use super::precision_recall::precision_recall;
use super::{MnistError, Result};
use serde::Serialize;

/// KID block size (Bińkowski et al.'s default subset size).
pub const KID_BLOCK: usize = 1000;
/// Number of KID blocks.
pub const KID_BLOCKS: usize = 50;
/// Nearest neighbours for precision/recall.
pub const PR_K: usize = 3;

/// Scores of one image set against the test images.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quality {
    /// Number of images scored.
    pub n: usize,
    /// Classifier-feature FID.
    pub fid: f64,
    /// Bootstrap standard error of the FID over the scored images ([`FID_BOOTSTRAP`] resamples).
    pub fid_se: f64,
    /// KID mean over blocks.
    pub kid: f64,
    /// KID standard deviation over blocks.
    pub kid_std: f64,
    /// Improved precision (k = 3).
    pub precision: f64,
    /// Improved recall (k = 3).
    pub recall: f64,
    /// Fraction of images the classifier assigns to each digit.
    pub class_fractions: [f64; 10],
}

impl Quality {
    /// The smallest class fraction (the "every class ≥ 5%" check).
    pub fn min_class_fraction(&self) -> f64 {
        self.class_fractions.iter().copied().fold(1.0, f64::min)
    }
}

/// Generated scores with their real-vs-real reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityReport {
    /// Generated images vs test images.
    pub generated: Quality,
    /// The first `n` training images vs the same test images (same n).
    pub reference: Quality,
}

/// Scores flat images (`n·784` values, clamped to [−1, 1] first as the paper's metric script does)
/// against the test images `test`.
pub fn score(
    classifier: &Classifier,
    test: &ImageSet,
    images: &[f32],
    seed: u64,
) -> Result<Quality> {
    let (real, _) = classifier.features_of(&test.pixels)?;
    score_against(classifier, &real, images, seed)
}

/// [`score`] against precomputed features of the test images (computing them once saves a pass of
/// the classifier over the test split per evaluation).
pub fn score_against(
    classifier: &Classifier,
    real: &Features,
    images: &[f32],
    seed: u64,
) -> Result<Quality> {
    let clamped: Vec<f32> = images
        .iter()
        .map(|v| if v.is_nan() { 0.0 } else { v.clamp(-1.0, 1.0) })
        .collect();
    let (gen, preds) = classifier.features_of(&clamped)?;
    if gen.n() <= PR_K {
        return Err(MnistError::Invalid(format!(
            "quality metrics need more than {PR_K} images, got {}",
            gen.n()
        )));
    }
    let k: Kid = kid(real, &gen, KID_BLOCK, KID_BLOCKS, seed)?;
    let pr = precision_recall(real, &gen, PR_K)?;
    let mut counts = [0usize; 10];
    for p in preds {
        counts[(p as usize).min(9)] += 1;
    }
    let n = gen.n();
    Ok(Quality {
        n,
        fid: fid(real, &gen)?,
        fid_se: fid_standard_error(real, &gen, FID_BOOTSTRAP, seed)?,
        kid: k.mean,
        kid_std: k.std,
        precision: pr.precision,
        recall: pr.recall,
        class_fractions: counts.map(|c| c as f64 / n as f64),
    })
}

/// Scores generated images and the real-vs-real reference (the first `n` training images, `n` the
/// number of generated images) against the test images.
pub fn report(
    classifier: &Classifier,
    train: &ImageSet,
    test: &ImageSet,
    generated: &[f32],
    seed: u64,
) -> Result<QualityReport> {
    let n = generated.len() / 784;
    let reference_set = train.head(n);
    Ok(QualityReport {
        generated: score(classifier, test, generated, seed)?,
        reference: score(classifier, test, &reference_set.pixels, seed)?,
    })
}

impl std::fmt::Display for QualityReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<22} {:>18} {:>18} {:>9} {:>7} {:>9}",
            "", "FID (±s.e.)", "KID (±std)", "precision", "recall", "min class"
        )?;
        for (name, q) in [
            ("generated", &self.generated),
            ("real (train vs test)", &self.reference),
        ] {
            writeln!(
                f,
                "{:<22} {:>9.3} ±{:>7.3} {:>9.5} ±{:>7.5} {:>9.3} {:>7.3} {:>8.1}%",
                name,
                q.fid,
                q.fid_se,
                q.kid,
                q.kid_std,
                q.precision,
                q.recall,
                100.0 * q.min_class_fraction()
            )?;
        }
        write!(f, "class fractions of generated (0..9):")?;
        for c in self.generated.class_fractions {
            write!(f, " {:.3}", c)?;
        }
        Ok(())
    }
}
