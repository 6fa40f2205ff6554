//! The paper's MNIST U-Net `ResidualVelocityNet2D` (PAPER.md §6.3), with width, depth and
//! time-embedding size as parameters (the paper: hidden 64, depth 3, time embedding 128, giving
//! 13,449,668 parameters, 13,448,514 for Hermite paths).
//!
//! * time: Sinusoidal(T) → Linear(T → 4T) → SiLU → Linear(4T → T) = e;
//! * input: concat[φ̃, π̃] → Conv3×3(2c → h);
//! * down block (c → 2c, spatial ⌈s/2⌉; its input is the skip): Conv3×3 s2 → GN → SiLU
//!   → + Linear(e) → Conv3×3 → GN → SiLU;
//! * middle: Conv3×3 → GN → SiLU → + Linear(e) → Conv3×3 → GN → SiLU;
//! * up block: ConvT(k4 s2 p1; c → c/2) → GN → SiLU → bilinear resize to the skip size when it
//!   differs (8 → 7) → concat skip → Conv1×1 → + Linear(e) → Conv3×3 → GN → SiLU;
//! * out: GN → SiLU → Conv3×3(h → 2c, or c for Hermite paths).
//!
//! With [`UNetConfig::pixel`] the same U-Net runs in pixel space: the spectral state (Re/Im
//! channel pairs of Fourier modes) goes through the orthonormal inverse 2-D DFT first and the
//! output through the forward DFT ([`PixelBasis`], two batched GEMMs each, inside autograd). The
//! DFT is unitary, so the loss and the flow are unchanged; only the convolutions see neighbouring
//! pixels instead of neighbouring modes.

use crate::nn::activation::silu;
use crate::nn::conv::{Conv2d, ConvTranspose2d};
use crate::nn::group_norm::GroupNorm;
use crate::nn::layers::{conv2d, conv_transpose2d, group_norm, linear};
use crate::nn::time_embedding::{SinusoidalEmbedding, MAX_PERIOD};
use crate::nn::{split_output, Preset, VelocityNet};
use crate::State;
use candle_core::{Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of the U-Net.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UNetConfig {
    /// Width h of the first level (channels double per level).
    pub hidden: usize,
    /// Number of down (and up) blocks.
    pub depth: usize,
    /// Sinusoidal time-embedding dimension T (the time MLP is T → 4T → T).
    pub time_dim: usize,
    /// GroupNorm groups.
    pub groups: usize,
    /// Convolve in pixel space: inverse DFT of the input, forward DFT of the output (the paper:
    /// `false`, convolutions over the Fourier-mode grid).
    #[serde(default)]
    pub pixel: bool,
}

impl UNetConfig {
    /// The paper's U-Net (13.4M parameters).
    pub const PAPER: UNetConfig = UNetConfig {
        hidden: 64,
        depth: 3,
        time_dim: 128,
        groups: 8,
        pixel: false,
    };

    /// The U-Net of a preset: `paper` as published; `small` (h 32, depth 3, ≈0.84M) and `quick`
    /// (h 16, depth 2, ≈0.05M) for CPU runs.
    pub fn preset(preset: Preset) -> Self {
        match preset {
            Preset::Paper => Self::PAPER,
            Preset::Small => UNetConfig {
                hidden: 32,
                depth: 3,
                time_dim: 64,
                groups: 8,
                pixel: false,
            },
            Preset::Quick | Preset::Lattice => UNetConfig {
                hidden: 16,
                depth: 2,
                time_dim: 32,
                groups: 4,
                pixel: false,
            },
        }
    }

    /// Checks the configuration.
    pub fn validate(&self) -> std::result::Result<(), String> {
        crate::nn::check_sizes(
            "U-Net",
            &[
                ("hidden width", self.hidden, crate::nn::MAX_WIDTH),
                ("time-embedding size", self.time_dim, crate::nn::MAX_WIDTH),
            ],
        )?;
        if self.hidden == 0 || self.depth == 0 || self.depth > 8 || self.groups == 0 {
            return Err("U-Net hidden width, groups must be positive and depth in 1..=8".into());
        }
        if !self.hidden.is_multiple_of(self.groups) {
            return Err(format!(
                "U-Net width {} is not divisible by {} GroupNorm groups",
                self.hidden, self.groups
            ));
        }
        if self.time_dim == 0 || !self.time_dim.is_multiple_of(2) {
            return Err(format!(
                "time-embedding size must be even, got {}",
                self.time_dim
            ));
        }
        Ok(())
    }
}

/// The PyTorch `align_corners=False` bilinear interpolation matrix (out × inp): row i holds the
/// weights of the input samples that make output sample i.
pub fn bilinear_matrix(inp: usize, out: usize) -> Vec<f32> {
    let mut m = vec![0f32; out * inp];
    let scale = inp as f64 / out as f64;
    for i in 0..out {
        let src = ((i as f64 + 0.5) * scale - 0.5).max(0.0);
        let i0 = (src.floor() as usize).min(inp - 1);
        let i1 = (i0 + 1).min(inp - 1);
        let w1 = src - i0 as f64;
        m[i * inp + i0] += (1.0 - w1) as f32;
        m[i * inp + i1] += w1 as f32;
    }
    m
}

/// Bilinear resize (align_corners = False) of (B, C, H, W) to (B, C, h, w), as two matmuls.
pub fn resize_bilinear(x: &Tensor, h: usize, w: usize) -> Result<Tensor> {
    let (_, _, hi, wi) = x.dims4()?;
    if (hi, wi) == (h, w) {
        return Ok(x.clone());
    }
    let dev = x.device();
    let rw = Tensor::from_vec(bilinear_matrix(wi, w), (w, wi), dev)?.to_dtype(x.dtype())?;
    let rh = Tensor::from_vec(bilinear_matrix(hi, h), (h, hi), dev)?.to_dtype(x.dtype())?;
    // (B,C,H,W)·(W,w) → (B,C,H,w); then (h,H)·(B,C,H,w) → (B,C,h,w)
    let x = x.broadcast_matmul(&rw.t()?)?;
    rh.broadcast_matmul(&x)
}

/// The orthonormal 2-D DFT of complex fields stored as Re/Im channel pairs, (B, 2m, H, W), as
/// batched real GEMMs (candle has no FFT; this one is differentiable). Along an axis of length n,
/// G = C + i·s·S with C = cos(2πjk/n)/√n, S = sin(2πjk/n)/√n, s = −1 forward and +1 inverse (the
/// convention of the image codec's `FftNorm::Ortho`); [Re; Im] ↦ [[C, −sS], [sS, C]]·[Re; Im].
#[derive(Debug, Clone)]
pub struct PixelBasis {
    h: usize,
    w: usize,
    forward_h: Tensor,
    forward_w: Tensor,
    inverse_h: Tensor,
    inverse_w: Tensor,
}

impl PixelBasis {
    /// The DFT matrices for (h, w) fields on `device` (f32).
    pub fn new(h: usize, w: usize, device: &candle_core::Device) -> Result<Self> {
        let block = |n: usize, sign: f64| -> Result<Tensor> {
            let mut m = vec![0f32; 4 * n * n];
            let norm = (n as f64).sqrt();
            for j in 0..n {
                for k in 0..n {
                    // reduce jk mod n first: exact angles for large products
                    let angle = 2.0 * std::f64::consts::PI * ((j * k) % n) as f64 / n as f64;
                    let (c, sn) = (angle.cos() / norm, sign * angle.sin() / norm);
                    m[j * 2 * n + k] = c as f32;
                    m[j * 2 * n + n + k] = -sn as f32;
                    m[(n + j) * 2 * n + k] = sn as f32;
                    m[(n + j) * 2 * n + n + k] = c as f32;
                }
            }
            Tensor::from_vec(m, (2 * n, 2 * n), device)
        };
        Ok(Self {
            h,
            w,
            forward_h: block(h, -1.0)?,
            forward_w: block(w, -1.0)?,
            inverse_h: block(h, 1.0)?,
            inverse_w: block(w, 1.0)?,
        })
    }

    fn apply(&self, x: &Tensor, along_h: &Tensor, along_w: &Tensor) -> Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        if c % 2 != 0 || (h, w) != (self.h, self.w) {
            return Err(candle_core::Error::Msg(format!(
                "pixel basis of {}×{} fields with Re/Im channel pairs got shape {:?}",
                self.h,
                self.w,
                x.dims()
            )));
        }
        let n = b * c / 2;
        // along H: (n, 2H, W) = [Re; Im] stacked over rows
        let z = along_h.broadcast_matmul(&x.reshape((n, 2 * h, w))?)?;
        // along W on the transposed fields (G symmetric: (Z G)ᵀ = G Zᵀ)
        let zt = z
            .reshape((n, 2, h, w))?
            .transpose(2, 3)?
            .contiguous()?
            .reshape((n, 2 * w, h))?;
        let y = along_w.broadcast_matmul(&zt)?;
        y.reshape((n, 2, w, h))?
            .transpose(2, 3)?
            .contiguous()?
            .reshape((b, c, h, w))
    }

    /// Forward orthonormal DFT (pixels → modes).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.apply(x, &self.forward_h, &self.forward_w)
    }

    /// Inverse orthonormal DFT (modes → pixels).
    pub fn inverse(&self, x: &Tensor) -> Result<Tensor> {
        self.apply(x, &self.inverse_h, &self.inverse_w)
    }
}

struct Down {
    conv1: Conv2d,
    gn1: GroupNorm,
    time: Linear,
    conv2: Conv2d,
    gn2: GroupNorm,
}

impl Down {
    fn new(
        vb: VarBuilder,
        c_in: usize,
        c_out: usize,
        stride: usize,
        cfg: &UNetConfig,
    ) -> Result<Self> {
        Ok(Self {
            conv1: conv2d(vb.pp("conv1"), c_in, c_out, 3, stride, 1)?,
            gn1: group_norm(vb.pp("gn1"), cfg.groups, c_out)?,
            time: linear(vb.pp("time"), cfg.time_dim, c_out)?,
            conv2: conv2d(vb.pp("conv2"), c_out, c_out, 3, 1, 1)?,
            gn2: group_norm(vb.pp("gn2"), cfg.groups, c_out)?,
        })
    }

    fn forward(&self, x: &Tensor, emb: &Tensor) -> Result<Tensor> {
        let x = silu(&self.gn1.forward(&self.conv1.forward(x)?)?)?;
        let te = self.time.forward(emb)?.unsqueeze(2)?.unsqueeze(3)?;
        let x = x.broadcast_add(&te)?;
        silu(&self.gn2.forward(&self.conv2.forward(&x)?)?)
    }
}

struct Up {
    up: ConvTranspose2d,
    gn1: GroupNorm,
    merge: Conv2d,
    time: Linear,
    conv: Conv2d,
    gn2: GroupNorm,
}

impl Up {
    fn new(vb: VarBuilder, c: usize, skip: usize, cfg: &UNetConfig) -> Result<Self> {
        let h = c / 2;
        Ok(Self {
            up: conv_transpose2d(vb.pp("up"), c, h, 4, 2, 1)?,
            gn1: group_norm(vb.pp("gn1"), cfg.groups, h)?,
            merge: conv2d(vb.pp("merge"), h + skip, h, 1, 1, 0)?,
            time: linear(vb.pp("time"), cfg.time_dim, h)?,
            conv: conv2d(vb.pp("conv"), h, h, 3, 1, 1)?,
            gn2: group_norm(vb.pp("gn2"), cfg.groups, h)?,
        })
    }

    fn forward(&self, x: &Tensor, skip: &Tensor, emb: &Tensor) -> Result<Tensor> {
        let x = silu(&self.gn1.forward(&self.up.forward(x)?)?)?;
        let (_, _, h, w) = skip.dims4()?;
        let x = resize_bilinear(&x, h, w)?;
        let x = self.merge.forward(&Tensor::cat(&[&x, skip], 1)?)?;
        let te = self.time.forward(emb)?.unsqueeze(2)?.unsqueeze(3)?;
        let x = x.broadcast_add(&te)?;
        silu(&self.gn2.forward(&self.conv.forward(&x)?)?)
    }
}

/// The MNIST U-Net velocity network.
pub struct UNet {
    embed: SinusoidalEmbedding,
    t1: Linear,
    t2: Linear,
    input: Conv2d,
    downs: Vec<Down>,
    middle: Down,
    ups: Vec<Up>,
    out_gn: GroupNorm,
    out: Conv2d,
    hermite: bool,
    pixel: bool,
    /// Built on first use for the state's (H, W).
    basis: std::sync::Mutex<Option<PixelBasis>>,
}

impl UNet {
    /// Builds the U-Net for states with `channels` channels per component (2 for MNIST: Re/Im);
    /// Hermite paths predict only the π̃ velocity. Initialise with `crate::nn::init_seeded`.
    pub fn new(cfg: &UNetConfig, channels: usize, hermite: bool, vb: VarBuilder) -> Result<Self> {
        cfg.validate().map_err(candle_core::Error::Msg)?;
        let dev = vb.device().clone();
        let (h, t) = (cfg.hidden, cfg.time_dim);
        let tvb = vb.pp("time_mlp");
        let mut downs = Vec::with_capacity(cfg.depth);
        let mut c = h;
        for i in 0..cfg.depth {
            downs.push(Down::new(vb.pp(format!("down{i}")), c, 2 * c, 2, cfg)?);
            c *= 2;
        }
        let middle = Down::new(vb.pp("middle"), c, c, 1, cfg)?;
        let mut ups = Vec::with_capacity(cfg.depth);
        for i in 0..cfg.depth {
            ups.push(Up::new(vb.pp(format!("up{i}")), c, c / 2, cfg)?);
            c /= 2;
        }
        let out_ch = if hermite { channels } else { 2 * channels };
        Ok(Self {
            embed: SinusoidalEmbedding::new(t, MAX_PERIOD, &dev)?,
            t1: linear(tvb.pp("0"), t, 4 * t)?,
            t2: linear(tvb.pp("1"), 4 * t, t)?,
            input: conv2d(vb.pp("input"), 2 * channels, h, 3, 1, 1)?,
            downs,
            middle,
            ups,
            out_gn: group_norm(vb.pp("out_gn"), cfg.groups, h)?,
            out: conv2d(vb.pp("out"), h, out_ch, 3, 1, 1)?,
            hermite,
            pixel: cfg.pixel,
            basis: std::sync::Mutex::new(None),
        })
    }

    /// Raw network output (B, 2c or c, H, W) for input (B, 2c, H, W) and times (B,).
    pub fn forward_raw(&self, x: &Tensor, t: &Tensor) -> Result<Tensor> {
        let emb = self.embed.forward(t)?;
        let emb = self.t2.forward(&silu(&self.t1.forward(&emb)?)?)?;
        let mut x = self.input.forward(x)?;
        let mut skips = Vec::with_capacity(self.downs.len());
        for d in &self.downs {
            skips.push(x.clone());
            x = d.forward(&x, &emb)?;
        }
        x = self.middle.forward(&x, &emb)?;
        for u in &self.ups {
            let skip = skips
                .pop()
                .ok_or_else(|| candle_core::Error::Msg("U-Net skip stack empty".into()))?;
            x = u.forward(&x, &skip, &emb)?;
        }
        self.out.forward(&silu(&self.out_gn.forward(&x)?)?)
    }

    /// The DFT matrices for the state's (H, W), built once (tensors are shared, cloning is cheap).
    fn pixel_basis(&self, phi: &Tensor) -> Result<PixelBasis> {
        let (_, _, h, w) = phi.dims4()?;
        let mut cached = self
            .basis
            .lock()
            .map_err(|_| candle_core::Error::Msg("U-Net pixel basis lock poisoned".into()))?;
        match cached.as_ref() {
            Some(basis) if (basis.h, basis.w) == (h, w) => Ok(basis.clone()),
            _ => {
                let basis = PixelBasis::new(h, w, phi.device())?;
                *cached = Some(basis.clone());
                Ok(basis)
            }
        }
    }
}

impl VelocityNet for UNet {
    fn forward(&self, state: &State, t: &Tensor) -> Result<State> {
        if !self.pixel {
            let x = Tensor::cat(&[&state.phi, &state.pi], 1)?;
            let out = self.forward_raw(&x, t)?;
            return split_output(out, &state.phi, self.hermite);
        }
        let basis = self.pixel_basis(&state.phi)?;
        let x = Tensor::cat(
            &[&basis.inverse(&state.phi)?, &basis.inverse(&state.pi)?],
            1,
        )?;
        let out = self.forward_raw(&x, t)?;
        let v = split_output(out, &state.phi, self.hermite)?;
        Ok(State {
            phi: if self.hermite {
                v.phi
            } else {
                basis.forward(&v.phi)?
            },
            pi: basis.forward(&v.pi)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spectral::{complex_to_interleaved, Complex64, ComplexBatch, Fft2, FftNorm};
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    fn count(cfg: &UNetConfig, hermite: bool) -> usize {
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        UNet::new(cfg, 2, hermite, vb).unwrap();
        crate::nn::parameter_count(&vm)
    }

    #[test]
    fn paper_parameter_counts() {
        assert_eq!(count(&UNetConfig::PAPER, false), 13_449_668);
        assert_eq!(count(&UNetConfig::PAPER, true), 13_448_514);
    }

    #[test]
    fn bilinear_matches_pytorch() {
        // torch.nn.functional.interpolate(torch.arange(12.).view(1,1,3,4), size=(5,2),
        //                                 mode="bilinear", align_corners=False)
        let x = Tensor::arange(0f32, 12.0, &Device::Cpu)
            .unwrap()
            .reshape((1, 1, 3, 4))
            .unwrap();
        let y = resize_bilinear(&x, 5, 2).unwrap();
        let v: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
        let want = [0.5, 2.5, 2.1, 4.1, 4.5, 6.5, 6.9, 8.9, 8.5, 10.5];
        for (a, b) in v.iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "{v:?}");
        }
        // (arange(16)²).view(4,4) → 7×7: corners and a few interior values from PyTorch.
        let x = Tensor::arange(0f32, 16.0, &Device::Cpu)
            .unwrap()
            .sqr()
            .unwrap()
            .reshape((1, 1, 4, 4))
            .unwrap();
        let y: Vec<f32> = resize_bilinear(&x, 7, 7)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        for (idx, want) in [
            (0, 0.0),
            (1, 0.357_142_9),
            (8, 7.091_837),
            (24, 60.5),
            (33, 120.724_52),
            (40, 178.520_43),
            (48, 225.0),
        ] {
            assert!((y[idx] - want).abs() < 1e-4, "{idx}: {} vs {want}", y[idx]);
        }
    }

    /// A random complex batch (b, c, h, w) and its interleaved f32 tensor.
    fn random_fields(b: usize, c: usize, h: usize, w: usize) -> (ComplexBatch, Tensor) {
        let mut rng = crate::rng::seeded(7);
        let vals = crate::rng::uniform_vec(&mut rng, 2 * b * c * h * w, -0.5, 0.5);
        let mut z = ComplexBatch::zeros(b, c, h, w);
        for (i, v) in z.data.iter_mut().enumerate() {
            *v = Complex64::new(vals[2 * i], vals[2 * i + 1]);
        }
        let t = complex_to_interleaved(&z, &Device::Cpu).unwrap();
        (z, t)
    }

    use crate::nn::max_abs_diff as max_diff;

    #[test]
    fn pixel_basis_is_the_orthonormal_fft() {
        // Oracle: rustfft (the codec's transform), on non-square fields, two complex channels.
        let (b, c, h, w) = (3, 2, 6, 5);
        let (z, x) = random_fields(b, c, h, w);
        let basis = PixelBasis::new(h, w, &Device::Cpu).unwrap();
        let fft = Fft2::new(h, w).unwrap();
        for inverse in [false, true] {
            let mut want = z.clone();
            if inverse {
                fft.inverse(&mut want.data, FftNorm::Ortho).unwrap();
            } else {
                fft.forward(&mut want.data, FftNorm::Ortho).unwrap();
            }
            let want = complex_to_interleaved(&want, &Device::Cpu).unwrap();
            let got = if inverse {
                basis.inverse(&x).unwrap()
            } else {
                basis.forward(&x).unwrap()
            };
            assert!(max_diff(&got, &want) < 1e-5, "inverse {inverse}");
        }
        // Round trip and Parseval.
        let back = basis.forward(&basis.inverse(&x).unwrap()).unwrap();
        assert!(max_diff(&back, &x) < 1e-5);
        let norm = |t: &Tensor| {
            t.sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        let y = basis.forward(&x).unwrap();
        assert!((norm(&y) / norm(&x) - 1.0).abs() < 1e-5);
        // Wrong shapes are errors, not panics.
        assert!(basis.forward(&x.narrow(1, 0, 3).unwrap()).is_err());
        assert!(PixelBasis::new(5, 5, &Device::Cpu)
            .unwrap()
            .forward(&x)
            .is_err());
    }

    #[test]
    fn pixel_unet_sees_the_image_and_answers_in_modes() {
        // The vanilla codec's state of a real image: the pixel view of φ̃ is the image itself
        // (imaginary part 0), so a pixel-space U-Net's input convolution sees pixels.
        let (h, w) = (28, 28);
        let mut rng = crate::rng::seeded(3);
        let pixels = crate::rng::uniform_vec(&mut rng, h * w, 0.0, 1.0);
        let mut spec: Vec<Complex64> = pixels.iter().map(|&p| Complex64::new(p, 0.0)).collect();
        Fft2::new(h, w)
            .unwrap()
            .forward(&mut spec, FftNorm::Ortho)
            .unwrap();
        let z = ComplexBatch {
            data: spec,
            b: 1,
            c: 1,
            h,
            w,
        };
        let phi = complex_to_interleaved(&z, &Device::Cpu).unwrap();
        let view = PixelBasis::new(h, w, &Device::Cpu)
            .unwrap()
            .inverse(&phi)
            .unwrap();
        let re: Vec<f32> = view
            .narrow(1, 0, 1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let im = view
            .narrow(1, 1, 1)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap();
        for (a, b) in re.iter().zip(&pixels) {
            assert!((*a as f64 - b).abs() < 1e-5);
        }
        assert!(im.to_scalar::<f32>().unwrap() < 1e-5);
        // A pixel-space U-Net is a spectral U-Net conjugated by the DFT: same weights, the
        // output of `forward` equals DFT(raw U-Net(IDFT(state))).
        for hermite in [false, true] {
            let vm = VarMap::new();
            let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
            let cfg = UNetConfig {
                pixel: true,
                ..UNetConfig::preset(Preset::Quick)
            };
            let net = UNet::new(&cfg, 2, hermite, vb).unwrap();
            crate::nn::init_seeded(&vm, 1).unwrap();
            let (_, pi) = random_fields(1, 1, h, w);
            let state = State {
                phi: phi.clone(),
                pi: pi.clone(),
            };
            let t = Tensor::new(&[0.3f32], &Device::Cpu).unwrap();
            let v = net.forward(&state, &t).unwrap();
            let basis = PixelBasis::new(h, w, &Device::Cpu).unwrap();
            let x = Tensor::cat(
                &[&basis.inverse(&phi).unwrap(), &basis.inverse(&pi).unwrap()],
                1,
            )
            .unwrap();
            let raw = net.forward_raw(&x, &t).unwrap();
            let (want_phi, want_pi) = if hermite {
                (phi.zeros_like().unwrap(), basis.forward(&raw).unwrap())
            } else {
                (
                    basis.forward(&raw.narrow(1, 0, 2).unwrap()).unwrap(),
                    basis.forward(&raw.narrow(1, 2, 2).unwrap()).unwrap(),
                )
            };
            assert!(max_diff(&v.phi, &want_phi) < 1e-5);
            assert!(max_diff(&v.pi, &want_pi) < 1e-5);
        }
    }

    #[test]
    fn image_presets_convolve_in_pixel_space_except_the_papers() {
        use crate::nn::NetConfig;
        let unet = |p: Preset| match p.image_net_config() {
            NetConfig::UNet(cfg) => cfg,
            other => panic!("{p:?}: {other:?}"),
        };
        assert_eq!(unet(Preset::Paper), UNetConfig::PAPER);
        assert!(!unet(Preset::Paper).pixel);
        assert!(unet(Preset::Quick).pixel && unet(Preset::Small).pixel);
        assert_eq!(count(&unet(Preset::Quick), false), 215_604);
        // Run records written before the option existed read as the paper's mode-grid U-Net.
        let old: UNetConfig =
            serde_json::from_str(r#"{"hidden":16,"depth":2,"time_dim":32,"groups":4}"#).unwrap();
        assert!(!old.pixel);
    }

    #[test]
    fn shapes_on_28x28_and_hermite_zeros() {
        let cfg = UNetConfig::preset(Preset::Quick);
        for hermite in [false, true] {
            let vm = VarMap::new();
            let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
            let net = UNet::new(&cfg, 2, hermite, vb).unwrap();
            crate::nn::init_seeded(&vm, 1).unwrap();
            let phi = Tensor::ones((2, 2, 28, 28), DType::F32, &Device::Cpu).unwrap();
            let s = State {
                phi: phi.clone(),
                pi: phi,
            };
            let t = Tensor::new(&[0.2f32, 0.7], &Device::Cpu).unwrap();
            let v = net.forward(&s, &t).unwrap();
            assert_eq!(v.phi.dims(), &[2, 2, 28, 28]);
            assert_eq!(v.pi.dims(), &[2, 2, 28, 28]);
            let zero = v
                .phi
                .abs()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
                == 0.0;
            assert_eq!(zero, hermite);
        }
    }
}
