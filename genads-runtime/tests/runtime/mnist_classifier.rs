//! The metric classifier: seeded determinism, feature shapes, save/load round trip.

use candle_core::Device;
use genads_runtime::mnist::classifier::{Classifier, ClassifierTraining, FEATURE_DIM};
use genads_runtime::mnist::dataset::ImageSet;
use genads_runtime::mnist::idx::IdxImages;

fn tiny_set() -> ImageSet {
    // 32 synthetic "digits": class c lights up row band c.
    let n = 32;
    let mut pixels = vec![0u8; n * 784];
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    for (i, &c) in labels.iter().enumerate() {
        for col in 0..28 {
            pixels[i * 784 + (2 * c as usize + 4) * 28 + col] = 255;
        }
    }
    let images = IdxImages {
        count: n,
        rows: 28,
        cols: 28,
        pixels,
    };
    ImageSet::from_idx(&images, labels).unwrap()
}

fn weights(c: &Classifier) -> Vec<f32> {
    let data = c.varmap().data().lock().unwrap();
    let mut names: Vec<_> = data.keys().cloned().collect();
    names.sort();
    names
        .iter()
        .flat_map(|k| {
            data[k]
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        })
        .collect()
}

fn trained(seed: u64) -> Classifier {
    let cfg = ClassifierTraining {
        seed,
        epochs: 1,
        batch_size: 8,
        lr: 1e-3,
    };
    let mut c = Classifier::new(seed, &Device::Cpu).unwrap();
    c.train(&tiny_set(), &cfg, &mut |_| {}).unwrap();
    c
}

#[test]
fn same_seed_same_weights_after_training() {
    let a = weights(&trained(11));
    assert_eq!(a, weights(&trained(11)));
    assert_ne!(a, weights(&trained(12)));
    // training moved the weights away from the initialisation
    assert_ne!(a, weights(&Classifier::new(11, &Device::Cpu).unwrap()));
}

#[test]
fn features_predictions_and_checkpoint_round_trip() {
    let c = trained(3);
    let set = tiny_set();
    let (f, preds) = c.features_of(&set.pixels).unwrap();
    assert_eq!((f.n(), f.d()), (32, FEATURE_DIM));
    assert_eq!(preds.len(), 32);
    assert!(preds.iter().all(|&p| p < 10));
    assert!(c.features_of(&set.pixels[..100]).is_err());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.safetensors");
    c.save(&path).unwrap();
    let back = Classifier::load(&path, &Device::Cpu).unwrap();
    assert_eq!(weights(&c), weights(&back));
    std::fs::write(&path, b"garbage").unwrap();
    assert!(Classifier::load(&path, &Device::Cpu).is_err());
}
