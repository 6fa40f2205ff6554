//! AdamW with PyTorch semantics, the cosine learning-rate schedule and global-norm clipping
//! (PAPER.md §6.4). Implemented here (not candle-nn's) so that the moments can be checkpointed.
//!
//! One step at learning rate η (t = number of steps taken, counting this one):
//! p ← p − η·λ·p (decoupled decay); m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
//! p ← p − η/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};
use serde::{Deserialize, Serialize};

/// AdamW hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    /// Peak learning rate.
    pub lr: f64,
    /// β₁.
    pub beta1: f64,
    /// β₂.
    pub beta2: f64,
    /// ε.
    pub eps: f64,
    /// Decoupled weight decay λ.
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    /// The paper's settings: lr 3e-4, betas (0.9, 0.999), eps 1e-8, weight decay 1e-5.
    fn default() -> Self {
        Self {
            lr: 3e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-5,
        }
    }
}

/// PyTorch `CosineAnnealingLR` stepped every iteration: η(i) = η_min + (η₀ − η_min)(1 + cos(πi/T))/2
/// for step index i (0-based), constant η_min after T.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CosineSchedule {
    /// η₀.
    pub base_lr: f64,
    /// η_min (paper: 0.1·η₀).
    pub min_lr: f64,
    /// T, the total number of steps.
    pub total_steps: u64,
}

impl CosineSchedule {
    /// Decay from `base_lr` to `min_factor·base_lr` over `total_steps`.
    pub fn new(base_lr: f64, min_factor: f64, total_steps: u64) -> Self {
        Self {
            base_lr,
            min_lr: min_factor * base_lr,
            total_steps,
        }
    }

    /// Learning rate of step index `step` (0-based).
    pub fn lr(&self, step: u64) -> f64 {
        if self.total_steps == 0 || step >= self.total_steps {
            return self.min_lr;
        }
        self.lr_at_fraction(step as f64 / self.total_steps as f64)
    }

    /// Learning rate after a fraction `f` ∈ [0, 1] of the schedule (clamped), for budgets that are
    /// measured in seconds rather than steps.
    pub fn lr_at_fraction(&self, f: f64) -> f64 {
        let f = if f.is_nan() { 1.0 } else { f.clamp(0.0, 1.0) };
        let x = std::f64::consts::PI * f;
        self.min_lr + (self.base_lr - self.min_lr) * 0.5 * (1.0 + x.cos())
    }
}

/// Global L2 norm of the gradients of `vars` (missing gradients count as zero).
pub fn global_grad_norm(vars: &[Var], grads: &GradStore) -> Result<f64> {
    let mut sum = 0.0f64;
    for v in vars {
        if let Some(g) = grads.get(v.as_tensor()) {
            sum += g
                .sqr()?
                .sum_all()?
                .to_dtype(candle_core::DType::F64)?
                .to_scalar::<f64>()?;
        }
    }
    Ok(sum.sqrt())
}

/// The factor PyTorch's `clip_grad_norm_` multiplies gradients by: min(1, max_norm/(norm + 1e-6)).
pub fn clip_factor(norm: f64, max_norm: f64) -> f64 {
    (max_norm / (norm + 1e-6)).min(1.0)
}

/// AdamW over a fixed, ordered list of named variables (f32). For variables on the CPU the
/// moments live in host memory and each variable is updated in one fused pass (decay, moments,
/// bias-corrected step), several times faster than a chain of tensor ops for the 10M-parameter
/// paper networks; variables on another device (a GPU) keep their moments there and are updated
/// with tensor operations, so nothing crosses to the host.
pub struct AdamW {
    cfg: AdamWConfig,
    names: Vec<String>,
    vars: Vec<Var>,
    m: Vec<Moment>,
    v: Vec<Moment>,
    steps: u64,
    tensor_path: bool,
}

/// One moment of one variable: host values (fused CPU pass) or a tensor on the variable's device.
#[derive(Debug, Clone)]
enum Moment {
    Host(Vec<f32>),
    Device(Tensor),
}

impl Moment {
    fn zeros(var: &Var, tensor_path: bool) -> Result<Self> {
        Ok(if var.device().is_cpu() && !tensor_path {
            Moment::Host(vec![0.0f32; var.elem_count()])
        } else {
            Moment::Device(var.as_tensor().zeros_like()?)
        })
    }

    fn from_tensor(t: &Tensor, var: &Var, tensor_path: bool) -> Result<Self> {
        Ok(if var.device().is_cpu() && !tensor_path {
            Moment::Host(host_f32(t)?)
        } else {
            Moment::Device(
                t.to_dtype(candle_core::DType::F32)?
                    .to_device(var.device())?
                    .reshape(var.shape())?,
            )
        })
    }

    fn to_tensor(&self, var: &Var) -> Result<Tensor> {
        match self {
            Moment::Host(values) => Tensor::from_vec(values.clone(), var.shape(), var.device()),
            Moment::Device(t) => Ok(t.clone()),
        }
    }
}

/// The per-step constants of an AdamW update.
#[derive(Debug, Clone, Copy)]
struct StepConstants {
    b1: f32,
    b2: f32,
    one_b1: f32,
    one_b2: f32,
    decay: f32,
    step_size: f32,
    inv_bc2_sqrt: f32,
    eps: f32,
    scale: f32,
}

/// The AdamW update with tensor operations on the variable's device: returns (p, m, v).
fn tensor_step(
    p: &Tensor,
    g: &Tensor,
    m: &Tensor,
    v: &Tensor,
    k: StepConstants,
) -> Result<(Tensor, Tensor, Tensor)> {
    let g = (g.to_dtype(candle_core::DType::F32)? * f64::from(k.scale))?;
    let m = ((m * f64::from(k.b1))? + (&g * f64::from(k.one_b1))?)?;
    let v = ((v * f64::from(k.b2))? + (g.sqr()? * f64::from(k.one_b2))?)?;
    let denom = ((v.sqrt()? * f64::from(k.inv_bc2_sqrt))? + f64::from(k.eps))?;
    let p = ((p * f64::from(k.decay))? - ((&m * f64::from(k.step_size))? / denom)?)?;
    Ok((p, m, v))
}

fn host_f32(t: &Tensor) -> Result<Vec<f32>> {
    t.flatten_all()?
        .to_dtype(candle_core::DType::F32)?
        .to_vec1::<f32>()
}

impl AdamW {
    /// An optimiser over `named` variables (sorted by name for a stable order), moments zero.
    pub fn new(mut named: Vec<(String, Var)>, cfg: AdamWConfig) -> Result<Self> {
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let mut names = Vec::with_capacity(named.len());
        let mut vars = Vec::with_capacity(named.len());
        let mut m = Vec::with_capacity(named.len());
        let mut v = Vec::with_capacity(named.len());
        for (name, var) in named {
            if var.dtype() != candle_core::DType::F32 {
                candle_core::bail!("AdamW: variable `{name}` is not f32");
            }
            m.push(Moment::zeros(&var, false)?);
            v.push(Moment::zeros(&var, false)?);
            names.push(name);
            vars.push(var);
        }
        Ok(Self {
            cfg,
            names,
            vars,
            m,
            v,
            steps: 0,
            tensor_path: false,
        })
    }

    /// Updates every variable, CPU ones included, the way variables on another device are
    /// updated (tensor operations, moments as tensors), so that the tests can compare that path
    /// with the fused CPU pass. Resets the moments and the step count.
    pub fn use_tensor_path(&mut self) -> Result<()> {
        self.tensor_path = true;
        self.steps = 0;
        for i in 0..self.vars.len() {
            self.m[i] = Moment::zeros(&self.vars[i], true)?;
            self.v[i] = Moment::zeros(&self.vars[i], true)?;
        }
        Ok(())
    }

    /// The optimised variables, in the optimiser's order.
    pub fn vars(&self) -> &[Var] {
        &self.vars
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &AdamWConfig {
        &self.cfg
    }

    /// One AdamW step at learning rate `lr`, with gradients multiplied by `grad_scale` (the
    /// clipping factor) first. Variables without a gradient are left untouched.
    pub fn step(&mut self, grads: &GradStore, lr: f64, grad_scale: f64) -> Result<()> {
        self.steps += 1;
        let c = self.cfg;
        let t = self.steps as i32;
        let bc1 = 1.0 - c.beta1.powi(t);
        let bc2_sqrt = (1.0 - c.beta2.powi(t)).sqrt();
        let k = StepConstants {
            b1: c.beta1 as f32,
            b2: c.beta2 as f32,
            one_b1: (1.0 - c.beta1) as f32,
            one_b2: (1.0 - c.beta2) as f32,
            decay: (1.0 - lr * c.weight_decay) as f32,
            step_size: (lr / bc1) as f32,
            inv_bc2_sqrt: (1.0 / bc2_sqrt) as f32,
            eps: c.eps as f32,
            scale: grad_scale as f32,
        };
        let StepConstants {
            b1,
            b2,
            one_b1,
            one_b2,
            decay,
            step_size,
            inv_bc2_sqrt,
            eps,
            scale,
        } = k;
        for i in 0..self.vars.len() {
            let var = &self.vars[i];
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            if g.elem_count() != var.elem_count() {
                candle_core::bail!("AdamW: gradient of `{}` has the wrong size", self.names[i]);
            }
            let (m, v) = match (&mut self.m[i], &mut self.v[i]) {
                (Moment::Host(m), Moment::Host(v)) => (m, v),
                (Moment::Device(m), Moment::Device(v)) => {
                    let g = g.reshape(var.shape())?;
                    let (p, m_new, v_new) = tensor_step(var.as_tensor(), &g, m, v, k)?;
                    *m = m_new;
                    *v = v_new;
                    var.set(&p)?;
                    continue;
                }
                _ => candle_core::bail!("AdamW: the moments of `{}` differ in kind", self.names[i]),
            };
            let g = host_f32(g)?;
            let mut p = host_f32(var.as_tensor())?;
            if m.len() != p.len() {
                candle_core::bail!("AdamW: gradient of `{}` has the wrong size", self.names[i]);
            }
            for j in 0..p.len() {
                let gj = g[j] * scale;
                let mj = b1 * m[j] + one_b1 * gj;
                let vj = b2 * v[j] + one_b2 * gj * gj;
                m[j] = mj;
                v[j] = vj;
                p[j] = p[j] * decay - step_size * mj / (vj.sqrt() * inv_bc2_sqrt + eps);
            }
            let updated = Tensor::from_vec(p, var.shape(), var.device())?;
            var.set(&updated)?;
        }
        Ok(())
    }

    /// The optimiser state as named tensors (`m.<name>`, `v.<name>`) and the step count.
    pub fn state(&self) -> (HashMap<String, Tensor>, u64) {
        let mut map = HashMap::with_capacity(2 * self.names.len());
        for (i, name) in self.names.iter().enumerate() {
            let var = &self.vars[i];
            // Sizes match by construction, so from_vec cannot fail here.
            if let (Ok(m), Ok(v)) = (self.m[i].to_tensor(var), self.v[i].to_tensor(var)) {
                map.insert(format!("m.{name}"), m);
                map.insert(format!("v.{name}"), v);
            }
        }
        (map, self.steps)
    }

    /// Restores moments and step count saved by [`AdamW::state`]. Every moment must be present
    /// with the shape of its variable; on error nothing is changed.
    pub fn load_state(
        &mut self,
        map: &HashMap<String, Tensor>,
        steps: u64,
    ) -> std::result::Result<(), String> {
        let mut m = Vec::with_capacity(self.names.len());
        let mut v = Vec::with_capacity(self.names.len());
        for (name, var) in self.names.iter().zip(&self.vars) {
            for (prefix, out) in [("m", &mut m), ("v", &mut v)] {
                let key = format!("{prefix}.{name}");
                let t = map
                    .get(&key)
                    .ok_or_else(|| format!("optimiser moment `{key}` is missing"))?;
                if t.dims() != var.dims() {
                    return Err(format!(
                        "optimiser moment `{key}` has shape {:?}, the model needs {:?}",
                        t.dims(),
                        var.dims()
                    ));
                }
                out.push(Moment::from_tensor(t, var, self.tensor_path).map_err(|e| e.to_string())?);
            }
        }
        if map.len() != 2 * self.names.len() {
            return Err(format!(
                "optimiser state holds {} moments, the model needs {}",
                map.len(),
                2 * self.names.len()
            ));
        }
        self.m = m;
        self.v = v;
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn cosine_endpoints() {
        let s = CosineSchedule::new(3e-4, 0.1, 100);
        assert!((s.lr(0) - 3e-4).abs() < 1e-15);
        assert!((s.lr(50) - 0.5 * (3e-4 + 3e-5)).abs() < 1e-15);
        assert!((s.lr(100) - 3e-5).abs() < 1e-15);
        assert!((s.lr(1000) - 3e-5).abs() < 1e-15);
        assert!(s.lr(10) > s.lr(11));
    }

    #[test]
    fn cosine_by_fraction_matches_the_step_schedule() {
        let s = CosineSchedule::new(1e-3, 0.1, 400);
        for step in [0u64, 1, 100, 200, 399] {
            let by_fraction = s.lr_at_fraction(step as f64 / 400.0);
            assert!((by_fraction - s.lr(step)).abs() < 1e-18, "step {step}");
        }
        assert_eq!(s.lr_at_fraction(2.0), s.min_lr);
        assert_eq!(s.lr_at_fraction(-1.0), s.base_lr);
        assert_eq!(s.lr_at_fraction(f64::NAN), s.min_lr);
    }

    #[test]
    fn clip_factor_matches_pytorch() {
        assert_eq!(clip_factor(0.5, 1.0), 1.0);
        assert!((clip_factor(4.0, 1.0) - 1.0 / (4.0 + 1e-6)).abs() < 1e-15);
    }

    /// Two steps on f(p) = ½Σ aᵢpᵢ², computed by hand (independently of the tensor code).
    #[test]
    fn adamw_hand_computed() {
        let dev = Device::Cpu;
        let p0 = [1.0f64, -2.0];
        let a = [3.0f64, 0.5];
        let var = Var::new(&[p0[0] as f32, p0[1] as f32], &dev).unwrap();
        let cfg = AdamWConfig {
            lr: 0.1,
            weight_decay: 0.01,
            ..Default::default()
        };
        let mut opt = AdamW::new(vec![("p".into(), var.clone())], cfg).unwrap();
        let at = Tensor::new(&[a[0] as f32, a[1] as f32], &dev).unwrap();
        // Hand-computed reference.
        let (b1, b2, eps, lr, wd) = (0.9f64, 0.999f64, 1e-8, 0.1, 0.01);
        let mut p = p0;
        let mut m = [0.0; 2];
        let mut v = [0.0; 2];
        for t in 1..=2 {
            let loss = (var.as_tensor().sqr().unwrap() * &at)
                .unwrap()
                .sum_all()
                .unwrap()
                * 0.5;
            let grads = loss.unwrap().backward().unwrap();
            opt.step(&grads, lr, 1.0).unwrap();
            for i in 0..2 {
                let g = a[i] * p[i];
                p[i] -= lr * wd * p[i];
                m[i] = b1 * m[i] + (1.0 - b1) * g;
                v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                let mh = m[i] / (1.0 - b1.powi(t));
                let vh = v[i] / (1.0 - b2.powi(t));
                p[i] -= lr * mh / (vh.sqrt() + eps);
            }
        }
        // First step of Adam moves each coordinate by ≈ lr·sign(g): p ≈ 1 − 0.001 − 0.1.
        let got = var.as_tensor().to_vec1::<f32>().unwrap();
        for i in 0..2 {
            assert!((got[i] as f64 - p[i]).abs() < 1e-6, "{got:?} vs {p:?}");
        }
        assert_eq!(opt.steps(), 2);
        // State round trip.
        let (state, steps) = opt.state();
        let mut other = AdamW::new(vec![("p".into(), var.clone())], cfg).unwrap();
        other.load_state(&state, steps).unwrap();
        assert_eq!(other.steps(), 2);
        let mut bad = state.clone();
        bad.remove("v.p");
        assert!(other.load_state(&bad, 2).unwrap_err().contains("v.p"));
    }

    /// The tensor path (what variables on a GPU take) against the fused CPU pass: the same
    /// parameters and moments after five clipped steps, and its state round-trips.
    #[test]
    fn the_tensor_path_matches_the_fused_pass() {
        let dev = Device::Cpu;
        let start: Vec<f32> = (0..24).map(|i| ((i * 7) % 11) as f32 * 0.3 - 1.4).collect();
        let a = Tensor::from_vec(
            (0..24).map(|i| 0.2 + (i % 5) as f32).collect::<Vec<f32>>(),
            (4, 6),
            &dev,
        )
        .unwrap();
        let run = |tensor_path: bool| {
            let var =
                Var::from_tensor(&Tensor::from_vec(start.clone(), (4, 6), &dev).unwrap()).unwrap();
            let mut opt = AdamW::new(
                vec![("w".into(), var.clone())],
                AdamWConfig {
                    lr: 0.05,
                    weight_decay: 0.01,
                    ..Default::default()
                },
            )
            .unwrap();
            if tensor_path {
                opt.use_tensor_path().unwrap();
            }
            for _ in 0..5 {
                let loss = (var.as_tensor().sqr().unwrap() * &a)
                    .unwrap()
                    .sum_all()
                    .unwrap();
                let grads = loss.backward().unwrap();
                opt.step(&grads, 0.05, 0.7).unwrap();
            }
            let (state, steps) = opt.state();
            let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let restored = {
                let mut other = AdamW::new(vec![("w".into(), var.clone())], opt.cfg).unwrap();
                if tensor_path {
                    other.use_tensor_path().unwrap();
                }
                other.load_state(&state, steps).unwrap();
                flat(&other.state().0["v.w"])
            };
            (
                flat(var.as_tensor()),
                flat(&state["m.w"]),
                flat(&state["v.w"]),
                restored,
            )
        };
        let fused = run(false);
        let tensor = run(true);
        let close = |x: &[f32], y: &[f32]| {
            x.iter()
                .zip(y)
                .all(|(a, b)| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1e-3))
        };
        assert!(
            close(&fused.0, &tensor.0),
            "{:?} vs {:?}",
            fused.0,
            tensor.0
        );
        assert!(close(&fused.1, &tensor.1));
        assert!(close(&fused.2, &tensor.2));
        assert_eq!(
            tensor.2, tensor.3,
            "the tensor path's state does not round-trip"
        );
        assert_ne!(fused.0, start, "the steps moved nothing");
    }

    #[test]
    fn grad_norm_and_scale() {
        let dev = Device::Cpu;
        let var = Var::new(&[3.0f32, 4.0], &dev).unwrap();
        // loss = Σ p²/2 → g = p, |g| = 5.
        let grads = (var.as_tensor().sqr().unwrap().sum_all().unwrap() * 0.5)
            .unwrap()
            .backward()
            .unwrap();
        let n = global_grad_norm(std::slice::from_ref(&var), &grads).unwrap();
        assert!((n - 5.0).abs() < 1e-6);
        // With scale 1/5 the first Adam step is still ±lr (scale-invariant), so check m instead.
        let mut opt = AdamW::new(
            vec![("p".into(), var.clone())],
            AdamWConfig {
                weight_decay: 0.0,
                ..Default::default()
            },
        )
        .unwrap();
        opt.step(&grads, 1e-3, clip_factor(n, 1.0)).unwrap();
        let m = opt.state().0["m.p"].to_vec1::<f32>().unwrap();
        assert!((m[0] - 0.1 * 0.6).abs() < 1e-6 && (m[1] - 0.1 * 0.8).abs() < 1e-6);
    }
}
