//! Exponential moving average of the weights (PAPER.md §6.4: decay 0.9999 from step 1000).
//!
//! The EMA lives in its own `VarMap` with the model's names and shapes, so an evaluation network
//! can be built directly on it. Before the start step the EMA copies the weights; from the start
//! step on, e ← d·e + (1 − d)·p after every optimiser step.

use candle_core::{Result, Tensor, Var};
use candle_nn::VarMap;
use serde::{Deserialize, Serialize};

/// EMA settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EmaConfig {
    /// Decay d.
    pub decay: f64,
    /// First step (1-based count of optimiser steps) at which the EMA averages.
    pub start_step: u64,
}

impl Default for EmaConfig {
    /// The paper's EMA: 0.9999 from step 1000.
    fn default() -> Self {
        Self {
            decay: 0.9999,
            start_step: 1000,
        }
    }
}

/// The EMA of a model's variables.
pub struct Ema {
    cfg: EmaConfig,
    /// (model variable, EMA variable) pairs, sorted by name.
    pairs: Vec<(Var, Var)>,
}

impl Ema {
    /// Pairs every variable of `model` with the same-named variable of `ema` (which must hold the
    /// same names and shapes, e.g. a second network built over `ema`) and copies the weights.
    pub fn new(model: &VarMap, ema: &VarMap, cfg: EmaConfig) -> Result<Self> {
        let model_data = lock(model)?;
        let ema_data = lock(ema)?;
        if model_data.len() != ema_data.len() {
            candle_core::bail!(
                "EMA map holds {} variables, the model {}",
                ema_data.len(),
                model_data.len()
            );
        }
        let mut names: Vec<&String> = model_data.keys().collect();
        names.sort();
        let mut pairs = Vec::with_capacity(names.len());
        for name in names {
            let p = model_data[name].clone();
            let Some(e) = ema_data.get(name) else {
                candle_core::bail!("EMA map lacks variable `{name}`");
            };
            if p.dims() != e.dims() {
                candle_core::bail!("EMA variable `{name}` has a different shape");
            }
            e.set(p.as_tensor())?;
            pairs.push((p, e.clone()));
        }
        Ok(Self { cfg, pairs })
    }

    /// The settings.
    pub fn config(&self) -> &EmaConfig {
        &self.cfg
    }

    /// Updates after optimiser step number `step` (1-based).
    pub fn update(&self, step: u64) -> Result<()> {
        if step < self.cfg.start_step {
            for (p, e) in &self.pairs {
                e.set(p.as_tensor())?;
            }
            return Ok(());
        }
        // One fused host pass per variable (cheaper than three tensor ops for large nets).
        let d = self.cfg.decay as f32;
        let one_d = (1.0 - self.cfg.decay) as f32;
        for (p, e) in &self.pairs {
            if !e.device().is_cpu() {
                // On a GPU: blend there, nothing crosses to the host.
                e.set(&blend(e.as_tensor(), p.as_tensor(), self.cfg.decay)?)?;
                continue;
            }
            let pv = p.as_tensor().flatten_all()?.to_vec1::<f32>()?;
            let mut ev = e.as_tensor().flatten_all()?.to_vec1::<f32>()?;
            for (x, y) in ev.iter_mut().zip(&pv) {
                *x = d * *x + one_d * y;
            }
            e.set(&Tensor::from_vec(ev, e.shape(), e.device())?)?;
        }
        Ok(())
    }

    /// The EMA tensors, in name order.
    pub fn tensors(&self) -> Vec<Tensor> {
        self.pairs
            .iter()
            .map(|(_, e)| e.as_tensor().clone())
            .collect()
    }
}

/// d·e + (1 − d)·p with tensor operations on their device (the update of EMA variables that are
/// not on the CPU; the same numbers as the host loop up to f32 rounding).
fn blend(e: &Tensor, p: &Tensor, decay: f64) -> Result<Tensor> {
    (e * decay)? + (p * (1.0 - decay))?
}

fn lock(map: &VarMap) -> Result<std::sync::MutexGuard<'_, std::collections::HashMap<String, Var>>> {
    map.data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("variable map lock poisoned".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    /// The device blend against the host loop's arithmetic.
    #[test]
    fn the_device_blend_is_the_host_average() {
        let dev = Device::Cpu;
        let e: Vec<f32> = (0..10).map(|i| i as f32 * 0.37 - 1.0).collect();
        let p: Vec<f32> = (0..10).map(|i| 2.0 - i as f32 * 0.11).collect();
        let got = blend(
            &Tensor::new(e.as_slice(), &dev).unwrap(),
            &Tensor::new(p.as_slice(), &dev).unwrap(),
            0.9,
        )
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
        for i in 0..10 {
            let want = 0.9f32 * e[i] + 0.1f32 * p[i];
            assert!((got[i] - want).abs() <= 1e-6, "{i}: {} vs {want}", got[i]);
        }
    }

    #[test]
    fn copies_then_averages() {
        let dev = Device::Cpu;
        let model = VarMap::new();
        let ema_map = VarMap::new();
        let p = model
            .get(2, "w", candle_nn::Init::Const(1.0), DType::F32, &dev)
            .unwrap();
        ema_map
            .get(2, "w", candle_nn::Init::Const(0.0), DType::F32, &dev)
            .unwrap();
        let ema = Ema::new(
            &model,
            &ema_map,
            EmaConfig {
                decay: 0.9,
                start_step: 3,
            },
        )
        .unwrap();
        let e = || {
            ema_map.data().lock().unwrap()["w"]
                .to_vec1::<f32>()
                .unwrap()[0]
        };
        assert_eq!(e(), 1.0);
        let var = model.all_vars().pop().unwrap();
        var.set(&Tensor::new(&[2.0f32, 2.0], &dev).unwrap())
            .unwrap();
        ema.update(2).unwrap();
        assert_eq!(e(), 2.0);
        var.set(&Tensor::new(&[12.0f32, 12.0], &dev).unwrap())
            .unwrap();
        ema.update(3).unwrap();
        // 0.9·2 + 0.1·12 = 3.
        assert!((e() - 3.0).abs() < 1e-6);
        drop(p);
    }
}
