#!/usr/bin/env python3
"""Independent PyTorch re-implementation of the holographic checkerboard pipeline (fidelity oracle).

Written from ../shared/PAPER.md, not from the Rust code (which was read only for its conventions:
tensor layout, loss reduction, EMA before its start step). It trains the paper's model #3 "AdS"
(PAPER.md §8.1: linear path, no Klein-Gordon backbone, propagator encoding) or, with --backbone,
model #2 "AdS + KG (linear)", and writes

* a JSON-lines log (--log): one line per step (or the mean over --log-every steps) with the loss,
  the learning rate, the gradient norm before clipping and the training seconds; and one line per
  evaluation;
* at every step of --eval-at, N samples of the EMA model (RK4 with --ode-steps steps) as a CSV file
  `samples_step<S>.csv` in --out: a header `x,y`, then one de-normalised point per line — the
  format `genads sample --out FILE.csv` writes and `cargo run --release --example
  metric_calibration -- FILE.csv` scores, so both implementations are scored by the same Rust
  metric code.

The pipeline, by section of PAPER.md:

* §4.1 data: 50,000 checkerboard points ([-4,4]², 8 valid cells), scalar mean/std normalisation.
* §4.1 encoding: K = 16 modes per axis on the periodic box [-4,4]² (L = 8, not rescaled),
  n = fftfreq(16)·16, k = 2πn/L; φ̂_c(k) = env_φ(k) e^{-ik·(x*-x_min)}, π̂_c likewise with env_π;
  C = 2 identical channels; layout (B, 2C, K, K) with channels [Re_0, Im_0, Re_1, Im_1], k_x
  along dim 2 and k_y along dim 3; lift noise σ·N(0, 1) on π̃ only (σ = 0.1).
* §3.4/§4.1 item 5 envelopes at r_UV: `clean` = κ̃(ξ) = (2/Γ(ν))(ξ/2)^ν K_ν(ξ) and ∂_r κ̃ =
  (2^{1-ν}/Γ(ν)) ξ^{ν+1} K_{|ν-1|}(ξ), ξ = |k| e^{-r_UV} (k = 0: (1, 0)); `reference` = the
  authors' DC-normalised envelopes with ε = 0.01 (|k|_reg, Bessel argument clamped at ε, normaliser
  N = ξ₀^ν K_ν(max(ξ₀, ε)) with the power unclamped). K_ν is evaluated by quadrature of
  ∫₀^∞ e^{-x cosh s} cosh(νs) ds (checked against closed forms in --self-test).
* §5.1 IR prior: φ̃ ~ N(0, 1), π̃ ~ N(0, 0.55) on every entry (the checkerboard fallback).
* §5.2 linear path: S_t = (1-t)S₀ + tS₁, U_t = S₁ - S₀, t ~ U[0, 1] per sample, r_t = r_IR + tΔr.
* §5.3 velocity: α·Δr·V_KG(S, r) + R_θ(S, t) with V_KG = (π̃, |k|² e^{-2r} φ̃ - (2Δ-d) π̃) (planar
  AdS, stabilised variables); α = 0 for model #3, 1 with --backbone. The network sees t, not r.
* §5.4 loss: per sample ω(r_t)·[Σ_modes mean_channels (Δφ̃)² + Σ_modes mean_channels (Δπ̃)²],
  ω = e^{d r_t}, Δ = prediction - (U_t - αΔr V_KG(S_t, r_t)); batch mean.
* §6.1 network: the paper CNN `ResidualVelocityNet2DSimple` (bench/pytorch_reference.py's
  CheckerboardCNN, 10,599,176 parameters; output channels [N^φ (4), N^π (4)]), PyTorch default
  initialisation.
* §6.4 AdamW lr 3e-4, betas (0.9, 0.999), eps 1e-8, weight decay 1e-5; cosine schedule over
  --schedule-steps (default 78,100 = 100 epochs of 781) down to 0.1·lr, stepped every iteration,
  no warm-up; global-norm clipping at 1.0; EMA 0.9999 from step 1000. PAPER.md does not say what
  the EMA holds before its start step. Default (--ema-before-start copy, as the Rust runtime): it
  follows the raw weights, so runs shorter than 1000 steps are sampled with the raw weights, like
  the issue's measurement of the authors' code. `init` is what the authors' trainer.py does: the
  shadow is the initial weights, untouched until the 0-based step counter reaches the start step
  (their EMA stays dominated by the untrained weights for thousands of steps: 0.9999^6810 ≈ 0.51
  of it at step 7,810, their first 10-epoch evaluation). Batch 64 from shuffled epochs with
  drop-last (the authors' DataLoader; --batches replacement draws with replacement as the Rust
  trainer does).
* §5.5 sampling: S₀ ~ μ_IR, fixed-step RK4 in t with --ode-steps steps (paper: 100).
* §4.1 decoding: soft-argmax: zero-pad the channel-summed K×K spectrum to 128×128, × (128/K)²,
  real part of the 1/N inverse FFT, per-sample standardisation (unbiased std, clamped at 1e-6),
  softmax(4z), expectation over pixel corners (first axis x), de-normalisation.

Usage (venv: `python3 -m venv bench/.venv && bench/.venv/bin/pip install torch numpy`):
    bench/.venv/bin/python bench/holographic_reference.py --self-test
    bench/.venv/bin/python bench/holographic_reference.py --steps 540 --eval-at 270,540 \\
        --seed 1 --normalisation reference --out target/fidelity/py_seed1
bench/fidelity.sh runs it beside `genads train` and prints the comparison table.
"""

import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_reference import CheckerboardCNN  # noqa: E402  (PAPER.md §6.1, checked by --self-test)

BOX_MIN = -4.0  # spectral box [-4, 4]² (PAPER.md §4.1 item 3), in normalised coordinates
BOX_MAX = 4.0
REG_EPS = 0.01  # `holographic_regularization` of the reference envelopes (§4.1 item 4)


# ---------------------------------------------------------------------------------------------
# Special functions and envelopes (PAPER.md §3.4, §4.1 item 5, §4.4)
# ---------------------------------------------------------------------------------------------

def bessel_k_scaled(nu: float, x) -> np.ndarray:
    """e^x K_ν(x) for x > 0 by the trapezoid rule on ∫₀^∞ e^{-x (cosh s - 1)} cosh(νs) ds.

    The integrand is analytic and decays double-exponentially, so the trapezoid rule converges
    geometrically; the range is cut where e^{-x (cosh s - 1)} < e^{-700}.
    """
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    if np.any(x <= 0):
        raise ValueError("bessel_k_scaled needs x > 0")
    out = np.empty_like(x)
    for i, xi in enumerate(x):
        # cosh s - 1 ≥ e^s / 2 - 1: e^{-x(cosh s - 1)} < 1e-300 once e^s > 2(690/x + 1).
        s_max = math.log(2.0 * (700.0 / xi + 1.0)) + 1.0
        s = np.linspace(0.0, s_max, 20001)
        f = np.exp(-xi * (np.cosh(s) - 1.0) + abs(nu) * s) * 0.5 * (1.0 + np.exp(-2.0 * abs(nu) * s))
        h = s[1] - s[0]
        out[i] = h * (f.sum() - 0.5 * (f[0] + f[-1]))
    return out


def bessel_k(nu: float, x) -> np.ndarray:
    """K_ν(x), x > 0."""
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    return bessel_k_scaled(nu, x) * np.exp(-x)


def envelope_clean(nu: float, k_abs, r_uv: float):
    """(κ̃, ∂_r κ̃) at r_UV per |k| (un-regularised): κ̃ = (2^{1-ν}/Γ(ν)) ξ^ν K_ν(ξ) → 1 as ξ → 0."""
    k_abs = np.atleast_1d(np.asarray(k_abs, dtype=np.float64))
    xi = k_abs * math.exp(-r_uv)
    c = 2.0 ** (1.0 - nu) / math.gamma(nu)
    phi = np.ones_like(xi)
    pi = np.zeros_like(xi)
    nz = xi > 0
    if np.any(nz):
        x = xi[nz]
        phi[nz] = c * x ** nu * bessel_k(nu, x)
        pi[nz] = c * x ** (nu + 1.0) * bessel_k(abs(nu - 1.0), x)
    return phi, pi


def envelope_reference(nu: float, k_abs, r_uv: float, eps: float = REG_EPS):
    """The authors' DC-normalised envelopes (PAPER.md §4.1 item 5, the quirk):
    ξ = |k|_reg e^{-r_UV}, env_φ = ξ^ν K_ν(max(ξ, ε))/N, env_π = ξ^{ν+1} K_{|ν-1|}(max(ξ, ε))/N,
    N = ξ₀^ν K_ν(max(ξ₀, ε)), ξ₀ = ε e^{-r_UV} (the power is not clamped)."""
    k_abs = np.atleast_1d(np.asarray(k_abs, dtype=np.float64))
    damp = math.exp(-r_uv)
    xi = np.sqrt(k_abs ** 2 + eps ** 2) * damp
    xi0 = eps * damp
    norm = xi0 ** nu * bessel_k(nu, max(xi0, eps))[0]
    xc = np.maximum(xi, eps)
    phi = xi ** nu * bessel_k(nu, xc) / norm
    pi = xi ** (nu + 1.0) * bessel_k(abs(nu - 1.0), xc) / norm
    return phi, pi, norm


# ---------------------------------------------------------------------------------------------
# Data (PAPER.md §7.1, §4.1 item 1)
# ---------------------------------------------------------------------------------------------

def checkerboard(n: int, rng: np.random.Generator) -> np.ndarray:
    """n points as the reference code draws them: uniform in [0,4)², keep even unit tiles, (v-2)·2."""
    out, have = [], 0
    while have < n:
        p = rng.uniform(0.0, 4.0, size=(2 * (n - have) + 16, 2))
        keep = (np.floor(p[:, 0]) + np.floor(p[:, 1])) % 2 == 0
        q = (p[keep] - 2.0) * 2.0
        out.append(q)
        have += len(q)
    return np.concatenate(out)[:n]


def checkerboard_valid(pts: np.ndarray) -> np.ndarray:
    inside = np.all((pts >= -4.0) & (pts < 4.0), axis=1)
    tile = np.floor((pts + 4.0) / 2.0)
    return inside & ((tile[:, 0] + tile[:, 1]) % 2 == 0)


# ---------------------------------------------------------------------------------------------
# The holographic model: encoding, prior, backbone, decoding
# ---------------------------------------------------------------------------------------------

class Holography:
    """Point-source spectral encoding on the K×K mode grid of the box, and what acts on its states."""

    def __init__(self, modes=16, channels=2, delta=1.5, d=2, r_ir=0.0, r_uv=1.0, lift=0.1,
                 normalisation="reference", backbone=False, prior_phi=1.0, prior_pi=0.55,
                 mean=0.0, std=1.0, grid=128, sharpness=4.0):
        self.K, self.C, self.delta, self.d = modes, channels, delta, d
        self.nu = delta - d / 2.0
        if self.nu <= 0:
            raise ValueError("standard quantisation needs Δ > d/2")
        self.r_ir, self.r_uv = r_ir, r_uv
        self.span = r_uv - r_ir
        self.lift, self.alpha = lift, (1.0 if backbone else 0.0)
        self.prior_sd = (math.sqrt(prior_phi), math.sqrt(prior_pi))
        self.mean, self.std = mean, std
        self.M, self.sharpness = grid, sharpness
        self.L = BOX_MAX - BOX_MIN
        n = np.fft.fftfreq(modes) * modes  # {0..7, -8..-1}
        self.n = np.rint(n).astype(np.int64)
        self.k = 2.0 * math.pi * self.n / self.L
        kx, ky = np.meshgrid(self.k, self.k, indexing="ij")  # k_x along dim 2, k_y along dim 3
        self.k2 = kx ** 2 + ky ** 2
        k_abs = np.sqrt(self.k2)
        if normalisation == "clean":
            ephi, epi = envelope_clean(self.nu, k_abs.ravel(), r_uv)
        elif normalisation == "reference":
            ephi, epi, _ = envelope_reference(self.nu, k_abs.ravel(), r_uv)
        else:
            raise ValueError(f"unknown normalisation {normalisation!r}")
        self.env_phi = ephi.reshape(modes, modes)
        self.env_pi = epi.reshape(modes, modes)
        self.k2_t = torch.tensor(self.k2, dtype=torch.float32)[None, None]
        # Friction of the stabilised planar-AdS backbone: dπ̃/dr = |k|² e^{-2r} φ̃ - (2Δ - d) π̃.
        self.friction = 2.0 * delta - d

    def shape(self, b):
        return (b, 2 * self.C, self.K, self.K)

    def normalise(self, pts):
        return (pts - self.mean) / self.std

    def denormalise(self, pts):
        return pts * self.std + self.mean

    def encode(self, pts_norm: np.ndarray, gen: torch.Generator):
        """S₁ = Lift(y) for normalised points (B, 2): (φ̃, π̃ + σ·noise), float32 (B, 2C, K, K)."""
        x = pts_norm[:, 0] - BOX_MIN
        y = pts_norm[:, 1] - BOX_MIN
        phase = self.k[None, :, None] * x[:, None, None] + self.k[None, None, :] * y[:, None, None]
        re, im = np.cos(phase), -np.sin(phase)  # e^{-i k·(x* - x_min)}
        one = np.stack([re, im], axis=1)  # (B, 2, K, K): [Re, Im]
        both = np.concatenate([one] * self.C, axis=1)  # [Re_0, Im_0, Re_1, Im_1]
        phi = torch.tensor(both * self.env_phi[None, None], dtype=torch.float32)
        pi = torch.tensor(both * self.env_pi[None, None], dtype=torch.float32)
        if self.lift > 0:
            pi = pi + self.lift * torch.randn(pi.shape, generator=gen)
        return phi, pi

    def prior(self, b: int, gen: torch.Generator):
        s = self.shape(b)
        return (self.prior_sd[0] * torch.randn(s, generator=gen),
                self.prior_sd[1] * torch.randn(s, generator=gen))

    def backbone_t(self, phi, pi, t):
        """α·Δr·V_KG(S, r(t)) (t-velocity) for per-sample t (B,)."""
        if self.alpha == 0.0:
            return torch.zeros_like(phi), torch.zeros_like(pi)
        r = (self.r_ir + t * self.span).view(-1, 1, 1, 1)
        vphi = pi
        vpi = self.k2_t * torch.exp(-2.0 * r) * phi - self.friction * pi
        a = self.alpha * self.span
        return a * vphi, a * vpi

    def omega(self, t):
        return torch.exp(self.d * (self.r_ir + t * self.span))

    def decode(self, phi: torch.Tensor, chunk: int = 256) -> np.ndarray:
        """Soft-argmax readout of φ̃(r_UV) → de-normalised points (B, 2)."""
        K, M = self.K, self.M
        idx = torch.tensor([v if v >= 0 else M + v for v in self.n], dtype=torch.long)
        ii = torch.arange(M, dtype=torch.float64)
        out = []
        for s in range(0, phi.shape[0], chunk):
            p = phi[s:s + chunk].to(torch.float64)
            spec = torch.zeros(p.shape[0], K, K, dtype=torch.complex128)
            for c in range(self.C):
                spec = spec + torch.complex(p[:, 2 * c], p[:, 2 * c + 1])
            pad = torch.zeros(p.shape[0], M, M, dtype=torch.complex128)
            pad[:, idx[:, None], idx[None, :]] = spec * (M / K) ** 2
            img = torch.fft.ifft2(pad).real  # dims (x, y), 1/N normalisation
            flat = img.reshape(img.shape[0], -1)
            z = (flat - flat.mean(1, keepdim=True)) / flat.std(1, keepdim=True).clamp_min(1e-6)
            w = torch.softmax(self.sharpness * z, dim=1).reshape(-1, M, M)
            ex = (w.sum(2) * ii).sum(1)
            ey = (w.sum(1) * ii).sum(1)
            pts = torch.stack([BOX_MIN + ex * self.L / M, BOX_MIN + ey * self.L / M], dim=1)
            out.append(pts.numpy())
        return self.denormalise(np.concatenate(out))


# ---------------------------------------------------------------------------------------------
# Network wrapper, loss, sampling
# ---------------------------------------------------------------------------------------------

def net_velocity(net, phi, pi, t):
    """R_θ(S, t): the CNN's 8 output channels split as [N^φ, N^π]."""
    out = net(phi, pi, t)
    c = phi.shape[1]
    return out[:, :c], out[:, c:]


def flow_loss(holo: Holography, net, phi0, pi0, phi1, pi1, t):
    tt = t.view(-1, 1, 1, 1)
    phit, pit = (1 - tt) * phi0 + tt * phi1, (1 - tt) * pi0 + tt * pi1
    uphi, upi = phi1 - phi0, pi1 - pi0
    bphi, bpi = holo.backbone_t(phit, pit, t)
    tphi, tpi = uphi - bphi, upi - bpi
    rphi, rpi = net_velocity(net, phit, pit, t)
    c = phi0.shape[1]
    per = (((rphi - tphi) ** 2).flatten(1).sum(1) + ((rpi - tpi) ** 2).flatten(1).sum(1)) / c
    return (holo.omega(t) * per).mean()


@torch.no_grad()
def sample(holo: Holography, net, n: int, ode_steps: int, gen: torch.Generator, batch: int = 500):
    """n de-normalised points: S₀ ~ μ_IR, RK4 over t ∈ [0, 1], soft-argmax readout."""
    net.eval()
    pts = []
    h = 1.0 / ode_steps

    def vel(phi, pi, tv):
        t = torch.full((phi.shape[0],), tv, dtype=torch.float32)
        rphi, rpi = net_velocity(net, phi, pi, t)
        bphi, bpi = holo.backbone_t(phi, pi, t)
        return rphi + bphi, rpi + bpi

    for s in range(0, n, batch):
        b = min(batch, n - s)
        phi, pi = holo.prior(b, gen)
        for i in range(ode_steps):
            t = i * h
            k1 = vel(phi, pi, t)
            k2 = vel(phi + 0.5 * h * k1[0], pi + 0.5 * h * k1[1], t + 0.5 * h)
            k3 = vel(phi + 0.5 * h * k2[0], pi + 0.5 * h * k2[1], t + 0.5 * h)
            k4 = vel(phi + h * k3[0], pi + h * k3[1], t + h)
            phi = phi + (h / 6.0) * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
            pi = pi + (h / 6.0) * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        pts.append(holo.decode(phi))
    net.train()
    return np.concatenate(pts)


def cosine_factor(step_index: int, total: int, min_factor: float) -> float:
    """CosineAnnealingLR stepped every iteration, as a factor of the peak lr (constant after T)."""
    if total <= 0 or step_index >= total:
        return min_factor
    return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * step_index / total))


def write_csv(path, pts):
    with open(path, "w") as f:
        f.write("x,y\n")
        for x, y in pts:
            f.write(f"{float(x)!r},{float(y)!r}\n")


# ---------------------------------------------------------------------------------------------
# Self-test
# ---------------------------------------------------------------------------------------------

def self_test() -> int:
    failures = []

    def check(name, ok, detail=""):
        print(f"  {'ok  ' if ok else 'FAIL'} {name}{(': ' + detail) if detail else ''}")
        if not ok:
            failures.append(name)

    print("Bessel K_ν by quadrature vs closed forms")
    for x in [0.01, 0.0037, 0.3, 1.0, 3.27, 9.0]:
        k12 = math.sqrt(math.pi / (2 * x)) * math.exp(-x)
        k32 = k12 * (1 + 1 / x)
        k0 = torch.special.modified_bessel_k0(torch.tensor(x, dtype=torch.float64)).item()
        k1 = torch.special.modified_bessel_k1(torch.tensor(x, dtype=torch.float64)).item()
        for nu, ref in [(0.5, k12), (1.5, k32), (0.0, k0), (1.0, k1)]:
            got = bessel_k(nu, x)[0]
            check(f"K_{nu}({x})", abs(got / ref - 1) < 1e-10, f"{got:.12g} vs {ref:.12g}")

    print("reference envelopes vs PAPER.md §4.4 (Δ = 1.5, r_UV = 1, ε = 0.01)")
    _, _, norm = envelope_reference(0.5, [0.0], 1.0)
    check("N", abs(norm - 0.7526096) < 5e-7, f"{norm:.7f} (table 0.7526096)")
    table = [  # (L, n_x, n_y, |k|_reg, ξ, env_φ, env_π)
        (8, 0, 0, 0.0100, 0.0037, 1.000000, 0.003679),
        (8, 1, 0, 0.7855, 0.2890, 1.247379, 0.360437),
        (8, 1, 1, 1.1108, 0.4086, 1.106688, 0.452224),
        (8, 4, 0, 3.1416, 1.1557, 0.524278, 0.605925),
        (8, 8, 8, 8.8858, 3.2689, 0.063362, 0.207123),
        (28, 1, 0, 0.2246, 0.0826, 1.533214, 0.126695),
        (28, 4, 0, 0.8977, 0.3302, 1.196944, 0.395265),
        (28, 14, 14, 4.4429, 1.6344, 0.324831, 0.530920),
    ]
    for L, nx, ny, kreg, xi_t, ephi_t, epi_t in table:
        k = 2 * math.pi / L * math.hypot(nx, ny)
        ephi, epi, _ = envelope_reference(0.5, [k], 1.0)
        kr = math.sqrt(k * k + REG_EPS ** 2)
        ok = (abs(kr - kreg) < 5e-5 and abs(kr / math.e - xi_t) < 5e-5
              and abs(ephi[0] - ephi_t) < 1.5e-6 and abs(epi[0] - epi_t) < 1.5e-6)
        check(f"L={L} ({nx},{ny})", ok, f"env_φ {ephi[0]:.6f} (table {ephi_t:.6f}), env_π {epi[0]:.6f} (table {epi_t:.6f})")
    # The quirk: for k ≠ 0 the reference envelope is 1.6653·e^{-ξ} (ν = 1/2).
    k = 2 * math.pi / 8 * 3
    ephi, epi, _ = envelope_reference(0.5, [k], 1.0)
    xi = math.sqrt(k * k + 1e-4) / math.e
    check("quirk factor sqrt(π/2)/N = 1.6652912", abs(ephi[0] / math.exp(-xi) - 1.6652912) < 2e-6,
          f"{ephi[0] / math.exp(-xi):.7f}")

    print("clean envelopes: e^{-ξ} and ξe^{-ξ} for ν = 1/2; (1, 0) at k = 0; general ν → 1 at ξ → 0")
    ks = np.array([0.0, 0.7854, 3.1416, 8.8858])
    ephi, epi = envelope_clean(0.5, ks, 1.0)
    xi = ks / math.e
    check("ν = 1/2 closed form", np.allclose(ephi, np.exp(-xi), rtol=1e-10, atol=0)
          and np.allclose(epi, xi * np.exp(-xi), rtol=1e-10, atol=1e-300))
    for nu in [1.0, 1.5, 2.0]:
        e, _ = envelope_clean(nu, [1e-3], 0.0)
        check(f"κ̃(ξ→0) → 1 for ν = {nu}", abs(e[0] - 1) < 2e-3 if nu == 1.0 else abs(e[0] - 1) < 1e-5, f"{e[0]:.7f}")

    print("encoding layout and decoding")
    holo = Holography(normalisation="clean", lift=0.0)
    gen = torch.Generator().manual_seed(0)
    phi, pi = holo.encode(np.array([[BOX_MIN, BOX_MIN]]), gen)  # phase 0: Re = env, Im = 0
    check("state shape (B, 4, 16, 16)", tuple(phi.shape) == (1, 4, 16, 16))
    check("x* = x_min: Re = env_φ, Im = 0, channels identical",
          torch.allclose(phi[0, 0].double(), torch.tensor(holo.env_phi), atol=1e-6)
          and phi[0, 1].abs().max().item() < 1e-6 and torch.equal(phi[0, :2], phi[0, 2:]))
    dx = 0.3  # shift along x only: the phase varies along dim 2 only, Im = -env·sin(k_x dx)
    phi, _ = holo.encode(np.array([[BOX_MIN + dx, BOX_MIN]]), gen)
    want = -holo.env_phi * np.sin(holo.k[:, None] * dx + 0 * holo.k[None, :])
    check("x shift → phase along dim 2 (Im = -env sin(k_x Δx))",
          np.allclose(phi[0, 1].numpy(), want, atol=1e-6))
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1.7, 1.7, size=(64, 2))
    for norm_kind in ["clean", "reference"]:
        h2 = Holography(normalisation=norm_kind, lift=0.0)
        phi, _ = h2.encode(pts, gen)
        back = h2.decode(phi)
        err = np.abs(back - pts).max()
        check(f"decode(encode(x)) = x ({norm_kind})", err < 0.02, f"max error {err:.1e} (normalised units)")

    print("loss and path")
    net = CheckerboardCNN()
    n_params = sum(p.numel() for p in net.parameters())
    n_herm = sum(p.numel() for p in CheckerboardCNN(hermite=True).parameters())
    check("paper CNN parameters 10,599,176", n_params == 10_599_176, f"{n_params:,}")
    check("Hermite CNN parameters 10,596,868", n_herm == 10_596_868, f"{n_herm:,}")

    class Oracle(torch.nn.Module):  # predicts U_t exactly from the true endpoints (test only)
        def __init__(self, u):
            super().__init__()
            self.u = u

        def forward(self, phi, pi, t):
            return torch.cat(self.u, 1)

    phi0, pi0 = holo.prior(8, gen)
    phi1, pi1 = holo.encode(rng.uniform(-1.5, 1.5, size=(8, 2)), gen)
    t = torch.rand(8, generator=gen)
    zero = flow_loss(holo, Oracle((phi1 - phi0, pi1 - pi0)), phi0, pi0, phi1, pi1, t).item()
    check("loss = 0 at the exact velocity (α = 0)", abs(zero) < 1e-8, f"{zero:.2e}")
    one = flow_loss(holo, Oracle((phi1 - phi0 + 1.0, pi1 - pi0)), phi0, pi0, phi1, pi1, t).item()
    want = (torch.exp(2 * t) * 256).mean().item()  # Σ_modes mean_channels 1² = 256 per sample
    check("loss reduction: ω(r_t)·Σ_modes mean_channels", abs(one / want - 1) < 1e-5, f"{one:.4f} vs {want:.4f}")
    holo_kg = Holography(normalisation="clean", lift=0.0, backbone=True)
    bphi, bpi = holo_kg.backbone_t(phi1, pi1, t)
    r = t.view(-1, 1, 1, 1)
    check("backbone dπ̃/dr = |k|² e^{-2r} φ̃ - π̃ (Δ = 1.5, d = 2)",
          torch.allclose(bpi, holo_kg.k2_t * torch.exp(-2 * r) * phi1 - pi1, atol=1e-5) and torch.equal(bphi, pi1))

    print("schedule")
    check("cosine: lr(0) = lr, lr(T/2) = 0.55 lr, lr(T) = 0.1 lr",
          cosine_factor(0, 100, 0.1) == 1.0 and abs(cosine_factor(50, 100, 0.1) - 0.55) < 1e-12
          and cosine_factor(100, 100, 0.1) == 0.1)
    print(f"paper CNN: {n_params:,} parameters (Hermite variant {n_herm:,})")
    print("self-test: " + ("all passed" if not failures else f"{len(failures)} FAILED: {failures}"))
    return 0 if not failures else 1


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------

def parse_steps(text):
    return sorted({int(s) for s in text.split(",") if s.strip()}) if text else []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self-test", action="store_true", help="check envelopes, layout, loss, parameter count; exit")
    ap.add_argument("--steps", type=int, default=540, help="optimiser steps to run")
    ap.add_argument("--schedule-steps", type=int, default=78_100,
                    help="length T of the cosine schedule (paper: 100 epochs × 781 = 78,100)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--min-lr-factor", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=1e-5)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--ema-decay", type=float, default=0.9999)
    ap.add_argument("--ema-start", type=int, default=1000)
    ap.add_argument("--ema-before-start", choices=["copy", "init"], default="copy",
                    help="EMA before --ema-start: copy the weights (Rust runtime) or keep the initial ones (authors' trainer.py)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train-size", type=int, default=50_000)
    ap.add_argument("--batches", choices=["epoch", "replacement"], default="epoch",
                    help="shuffled drop-last epochs (authors) or uniform draws with replacement (Rust trainer)")
    ap.add_argument("--normalisation", choices=["clean", "reference"], default="reference",
                    help="envelope normalisation: reference = the authors' DC-mode quirk (PAPER.md §4.1 item 5)")
    ap.add_argument("--backbone", action="store_true", help="model #2: α = 1 (KG backbone, residual loss)")
    ap.add_argument("--delta", type=float, default=1.5)
    ap.add_argument("--lift", type=float, default=0.1)
    ap.add_argument("--modes", type=int, default=16)
    ap.add_argument("--eval-at", type=str, default="", help="comma-separated steps at which to sample, e.g. 100,270,540")
    ap.add_argument("--n", type=int, default=500, help="samples per evaluation")
    ap.add_argument("--ode-steps", type=int, default=100, help="RK4 steps of sampling (paper: 100)")
    ap.add_argument("--sample-batch", type=int, default=500)
    ap.add_argument("--out", type=str, default="target/holographic_reference")
    ap.add_argument("--log", type=str, default=None, help="JSON-lines log (default: OUT/train.jsonl)")
    ap.add_argument("--log-every", type=int, default=1, help="write the mean loss of every N steps")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    if args.self_test:
        return self_test()

    os.makedirs(args.out, exist_ok=True)
    log_path = args.log or os.path.join(args.out, "train.jsonl")
    eval_at = [s for s in parse_steps(args.eval_at) if 1 <= s <= args.steps]

    # Data: 50,000 points, fixed per seed; scalar normalisation over all coordinates.
    data = checkerboard(args.train_size, np.random.default_rng(args.seed))
    mean, std = float(data.mean()), float(data.std())
    holo = Holography(modes=args.modes, delta=args.delta, lift=args.lift, normalisation=args.normalisation,
                      backbone=args.backbone, mean=mean, std=std)
    x_norm = holo.normalise(data)

    torch.manual_seed(args.seed)
    net = CheckerboardCNN(in_ch=2 * holo.C)
    ema = copy.deepcopy(net)
    for p in ema.parameters():
        p.requires_grad_(False)
    n_params = sum(p.numel() for p in net.parameters())
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: cosine_factor(i, args.schedule_steps, args.min_lr_factor))
    gen = torch.Generator().manual_seed(args.seed)
    np_rng = np.random.default_rng(args.seed + 7919)
    steps_per_epoch = len(x_norm) // args.batch
    perm, pos = None, steps_per_epoch

    meta = {"event": "config", "impl": "pytorch", "model": "ads_kg_linear" if args.backbone else "ads_linear",
            "params": n_params, "normalisation": args.normalisation, "seed": args.seed, "steps": args.steps,
            "schedule_steps": args.schedule_steps, "lr": args.lr, "batch": args.batch, "batches": args.batches,
            "ema_decay": args.ema_decay, "ema_start": args.ema_start,
            "ema_before_start": args.ema_before_start, "threads": args.threads,
            "data_mean": mean, "data_std": std, "eval_at": eval_at, "n": args.n, "ode_steps": args.ode_steps,
            "env_phi_dc": float(holo.env_phi[0, 0]), "env_phi_10": float(holo.env_phi[1, 0])}
    print(json.dumps(meta), flush=True)
    log = open(log_path, "w")
    log.write(json.dumps(meta) + "\n")
    window = []
    train_s = 0.0
    for step in range(1, args.steps + 1):
        t0 = time.perf_counter()
        if args.batches == "epoch":
            if pos >= steps_per_epoch:
                perm, pos = np_rng.permutation(len(x_norm)), 0
            idx = perm[pos * args.batch:(pos + 1) * args.batch]
            pos += 1
        else:
            idx = np_rng.integers(0, len(x_norm), size=args.batch)
        phi1, pi1 = holo.encode(x_norm[idx], gen)
        phi0, pi0 = holo.prior(args.batch, gen)
        t = torch.rand(args.batch, generator=gen)
        lr = opt.param_groups[0]["lr"]
        loss = flow_loss(holo, net, phi0, pi0, phi1, pi1, t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(net.parameters(), args.clip).item()
        value = loss.item()
        if not (math.isfinite(value) and math.isfinite(gnorm)):
            print(f"non-finite loss {value} or gradient norm {gnorm} at step {step}", file=sys.stderr)
            return 2
        opt.step()
        sched.step()
        with torch.no_grad():
            if args.ema_before_start == "copy" and step < args.ema_start:
                for e, p in zip(ema.parameters(), net.parameters()):  # the EMA follows the weights
                    e.copy_(p)
            elif args.ema_before_start == "copy" or step - 1 >= args.ema_start:
                # (authors: `if global_step >= ema_start_step: ema.update()`, global_step 0-based)
                for e, p in zip(ema.parameters(), net.parameters()):
                    e.mul_(args.ema_decay).add_(p, alpha=1.0 - args.ema_decay)
        train_s += time.perf_counter() - t0
        window.append(value)
        if len(window) >= args.log_every or step == args.steps:
            line = {"step": step, "loss": float(np.mean(window)), "window": len(window), "lr": lr,
                    "grad_norm": gnorm, "train_s": round(train_s, 3)}
            log.write(json.dumps(line) + "\n")
            log.flush()
            window = []
        if step % 50 == 0 or step == args.steps:
            print(f"step {step}/{args.steps}  loss {value:.2f}  lr {lr:.3e}  {train_s:.0f} s", file=sys.stderr, flush=True)
        if step in eval_at:
            t1 = time.perf_counter()
            sgen = torch.Generator().manual_seed(1_000_003 * args.seed + step)
            pts = sample(holo, ema, args.n, args.ode_steps, sgen, args.sample_batch)
            path = os.path.join(args.out, f"samples_step{step}.csv")
            write_csv(path, pts)
            bv = 1.0 - float(checkerboard_valid(pts).mean())
            ev = {"event": "eval", "step": step, "csv": path, "n": args.n, "ode_steps": args.ode_steps,
                  "bv_python": bv, "sample_s": round(time.perf_counter() - t1, 2)}
            log.write(json.dumps(ev) + "\n")
            log.flush()
            print(json.dumps(ev), file=sys.stderr, flush=True)
    log.close()
    print(json.dumps({"event": "done", "steps": args.steps, "train_s": round(train_s, 2),
                      "s_per_step": round(train_s / max(args.steps, 1), 4)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
