#!/usr/bin/env python3
"""PyTorch reference of the paper's checkerboard training step, for side-by-side timing with GenAdS.

Faithful to PAPER.md §6.1 (ResidualVelocityNet2DSimple, the checkerboard CNN), §6.2 (the
parameter-matched MLP baseline) and §6.4 (AdamW lr 3e-4, betas 0.9/0.999, eps 1e-8, weight decay
1e-5, cosine schedule, global-norm clipping at 1.0, EMA 0.9999). One "step" is what the authors'
trainer does per iteration: sample a batch of states and times, forward, omega-weighted MSE loss,
backward, clip, AdamW step, scheduler step, EMA update. Data sampling is synthetic random tensors of
the right shapes (the encoding is not what is being timed on either side).

Usage (the venv is made by bench/setup_torch.sh or by hand with `pip install torch numpy`):
    RAYON_NUM_THREADS=1 bench/.venv/bin/python bench/pytorch_reference.py --model cnn --threads 2
Prints one JSON line: {"model", "params", "threads", "batch", "steps", "seconds_per_step"}.
"""

import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def sinusoidal(t: torch.Tensor, dim: int = 128, max_period: float = 1e4) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class CheckerboardCNN(nn.Module):
    """PAPER.md §6.1: 10,599,176 parameters (linear), 10,596,868 (Hermite: out = in_ch)."""

    def __init__(self, in_ch: int = 4, h: int = 64, depth: int = 3, hermite: bool = False):
        super().__init__()
        self.time_mlp = nn.Sequential(nn.Linear(128, 4 * h), nn.SiLU(), nn.Linear(4 * h, h))
        self.inp = nn.Conv2d(2 * in_ch, h, 3, padding=1)
        self.down = nn.ModuleList()
        c = h
        for _ in range(depth):
            self.down.append(nn.Sequential(
                nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), nn.GroupNorm(8, 2 * c), nn.SiLU(),
                nn.Conv2d(2 * c, 2 * c, 3, padding=1), nn.GroupNorm(8, 2 * c), nn.SiLU()))
            c *= 2
        self.mid = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.GroupNorm(8, c), nn.SiLU())
        self.up = nn.ModuleList()
        for _ in range(depth):
            self.up.append(nn.Sequential(
                nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1), nn.GroupNorm(8, c // 2), nn.SiLU(),
                nn.Conv2d(c // 2, c // 2, 3, padding=1), nn.GroupNorm(8, c // 2), nn.SiLU()))
            c //= 2
        self.out = nn.Conv2d(h, in_ch if hermite else 2 * in_ch, 3, padding=1)

    def forward(self, phi, pi, t):
        x = self.inp(torch.cat([phi, pi], dim=1)) + self.time_mlp(sinusoidal(t))[:, :, None, None]
        skips = []
        for block in self.down:
            skips.append(x)
            x = block(x)
        x = self.mid(x)
        for block in self.up:
            x = block(x)
            skip = skips.pop()
            if x.shape[-2:] != skip.shape[-2:]:
                x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = x + skip
        return self.out(x)


class BaselineMLP(nn.Module):
    """PAPER.md §6.2: 132 -> 1442 -> 5 x 1442 -> 4, SiLU; 10,601,588 parameters."""

    def __init__(self, hidden: int = 1442, depth: int = 6):
        super().__init__()
        layers = [nn.Linear(132, hidden), nn.SiLU()]
        for _ in range(depth - 1):
            layers += [nn.Linear(hidden, hidden), nn.SiLU()]
        layers.append(nn.Linear(hidden, 4))
        self.net = nn.Sequential(*layers)

    def forward(self, phi, pi, t):
        return self.net(torch.cat([phi, pi, sinusoidal(t)], dim=-1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["cnn", "mlp"], default="cnn")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    net = CheckerboardCNN() if args.model == "cnn" else BaselineMLP()
    params = sum(p.numel() for p in net.parameters())
    ema = [p.detach().clone() for p in net.parameters()]
    total = args.warmup + args.steps
    opt = torch.optim.AdamW(net.parameters(), lr=3e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=3e-5)
    shape = (args.batch, 4, 16, 16) if args.model == "cnn" else (args.batch, 2)

    def step():
        phi, pi = torch.randn(shape), torch.randn(shape)
        target = torch.randn((args.batch, 8, 16, 16) if args.model == "cnn" else (args.batch, 4))
        t = torch.rand(args.batch)
        omega = torch.exp(2.0 * t)  # e^{d r_t}, d = 2, r in [0, 1]
        out = net(phi, pi, t)
        per_sample = ((out - target) ** 2).flatten(1).sum(1) if args.model == "cnn" else ((out - target) ** 2).mean(1)
        loss = (omega * per_sample).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        with torch.no_grad():
            for e, p in zip(ema, net.parameters()):
                e.mul_(0.9999).add_(p, alpha=1 - 0.9999)

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    elapsed = time.perf_counter() - start
    print(json.dumps({"model": args.model, "params": params, "threads": args.threads, "batch": args.batch,
                      "steps": args.steps, "seconds_per_step": elapsed / args.steps}))


if __name__ == "__main__":
    main()
