//! The MNIST data path on small generated IDX files (the real data is never downloaded by tests).

use flate2::{write::GzEncoder, Compression};
use genads_runtime::mnist::dataset::{ImageSet, Split};
use genads_runtime::mnist::fetch::{is_installed_in, require, DatasetKind};
use genads_runtime::mnist::idx::{encode_images, encode_labels, IdxImages};
use std::io::Write;

fn images(n: usize) -> IdxImages {
    IdxImages {
        count: n,
        rows: 28,
        cols: 28,
        pixels: (0..n * 784).map(|i| (i * 7 % 256) as u8).collect(),
    }
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn loads_raw_and_gzip_splits_and_rejects_corrupt_ones() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("train-images-idx3-ubyte"), encode_images(&images(6))).unwrap();
    std::fs::write(
        p.join("train-labels-idx1-ubyte"),
        encode_labels(&[0, 1, 2, 3, 4, 9]),
    )
    .unwrap();
    std::fs::write(
        p.join("t10k-images-idx3-ubyte.gz"),
        gz(&encode_images(&images(3))),
    )
    .unwrap();
    std::fs::write(
        p.join("t10k-labels-idx1-ubyte.gz"),
        gz(&encode_labels(&[5, 6, 7])),
    )
    .unwrap();
    let train = ImageSet::load_dir(p, Split::Train).unwrap();
    let test = ImageSet::load_dir(p, Split::Test).unwrap();
    assert_eq!((train.len(), test.len()), (6, 3));
    assert_eq!(test.labels, vec![5, 6, 7]);
    assert!(train.pixels.iter().all(|v| (-1.0..=1.0).contains(v)));
    assert_eq!(train.pixels[1], 7.0 * 2.0 / 255.0 - 1.0);

    // label count disagrees with image count
    std::fs::write(p.join("train-labels-idx1-ubyte"), encode_labels(&[0, 1])).unwrap();
    let err = ImageSet::load_dir(p, Split::Train).unwrap_err().to_string();
    assert!(err.contains("6 images but 2 labels"), "{err}");
    // a label of 11
    std::fs::write(
        p.join("train-labels-idx1-ubyte"),
        encode_labels(&[0, 1, 2, 3, 11, 9]),
    )
    .unwrap();
    let err = ImageSet::load_dir(p, Split::Train).unwrap_err().to_string();
    assert!(
        err.contains("train-labels-idx1-ubyte") && err.contains("label 11"),
        "{err}"
    );
    // a truncated gzip stream
    let g = gz(&encode_images(&images(3)));
    std::fs::write(p.join("t10k-images-idx3-ubyte.gz"), &g[..g.len() / 2]).unwrap();
    let err = ImageSet::load_dir(p, Split::Test).unwrap_err().to_string();
    assert!(err.contains("gzip"), "{err}");
    // a truncated raw file
    let raw = encode_images(&images(6));
    std::fs::write(p.join("train-images-idx3-ubyte"), &raw[..raw.len() - 100]).unwrap();
    let err = ImageSet::load_dir(p, Split::Train).unwrap_err().to_string();
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn missing_data_says_what_to_run() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("GENADS_DATA", dir.path());
    assert!(!is_installed_in(&DatasetKind::Mnist.dir()));
    let err = require(DatasetKind::Mnist).unwrap_err().to_string();
    assert!(err.contains("run `genads data fetch mnist`"), "{err}");
    let err = ImageSet::load(DatasetKind::FashionMnist, Split::Train)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("genads data fetch fashion-mnist") && err.contains("apt-get install"),
        "{err}"
    );
}
