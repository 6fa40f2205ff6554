#!/usr/bin/env python3
"""PyTorch reference of the paper's training steps, for side-by-side timing with GenAdS.

Faithful to PAPER.md §6.1 (ResidualVelocityNet2DSimple, the checkerboard CNN), §6.2 (the
parameter-matched MLP baseline), §6.3 (ResidualVelocityNet2D, the MNIST U-Net, batch 128) and §6.4 (AdamW lr 3e-4, betas 0.9/0.999, eps 1e-8, weight decay
1e-5, cosine schedule, global-norm clipping at 1.0, EMA 0.9999). One "step" is what the authors'
trainer does per iteration: sample a batch of states and times, forward, omega-weighted MSE loss,
backward, clip, AdamW step, scheduler step, EMA update. Data sampling is synthetic random tensors of
the right shapes (the encoding is not what is being timed on either side).

Usage (the venv is made by bench/setup_torch.sh or by hand with `pip install torch numpy`):
    bench/.venv/bin/python bench/pytorch_reference.py --model cnn|mlp|unet --threads 2
Prints one JSON line: {"impl": "pytorch", "model", "params", "threads", "batch", "steps",
"seconds_per_step"} (batch defaults: CNN and MLP 64, U-Net 128). bench/side_by_side.sh runs it
beside the Rust step (genads-runtime/benches/paper_steps.rs) and prints the ratios.
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
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
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


class MnistUNet(nn.Module):
    """PAPER.md §6.3: 13,449,668 parameters (linear/vanilla), 13,448,514 (Hermite: out = in_ch)."""

    def __init__(self, in_ch: int = 2, h: int = 64, depth: int = 3, t_dim: int = 128, hermite: bool = False):
        super().__init__()
        self.t_dim = t_dim
        self.time_mlp = nn.Sequential(nn.Linear(t_dim, 4 * t_dim), nn.SiLU(), nn.Linear(4 * t_dim, t_dim))
        self.inp = nn.Conv2d(2 * in_ch, h, 3, padding=1)

        def down(c_in, c_out, stride):
            return nn.ModuleDict(dict(
                conv1=nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), gn1=nn.GroupNorm(8, c_out),
                time=nn.Linear(t_dim, c_out),
                conv2=nn.Conv2d(c_out, c_out, 3, padding=1), gn2=nn.GroupNorm(8, c_out)))

        self.downs = nn.ModuleList()
        c = h
        for _ in range(depth):
            self.downs.append(down(c, 2 * c, 2))
            c *= 2
        self.mid = down(c, c, 1)
        self.ups = nn.ModuleList()
        for _ in range(depth):
            half = c // 2
            self.ups.append(nn.ModuleDict(dict(
                up=nn.ConvTranspose2d(c, half, 4, stride=2, padding=1), gn1=nn.GroupNorm(8, half),
                merge=nn.Conv2d(2 * half, half, 1), time=nn.Linear(t_dim, half),
                conv=nn.Conv2d(half, half, 3, padding=1), gn2=nn.GroupNorm(8, half))))
            c = half
        self.out_gn = nn.GroupNorm(8, h)
        self.out = nn.Conv2d(h, in_ch if hermite else 2 * in_ch, 3, padding=1)

    @staticmethod
    def _down(m, x, emb):
        x = F.silu(m["gn1"](m["conv1"](x))) + m["time"](emb)[:, :, None, None]
        return F.silu(m["gn2"](m["conv2"](x)))

    def forward(self, phi, pi, t):
        emb = self.time_mlp(sinusoidal(t, self.t_dim))
        x = self.inp(torch.cat([phi, pi], dim=1))
        skips = []
        for m in self.downs:
            skips.append(x)
            x = self._down(m, x, emb)
        x = self._down(self.mid, x, emb)
        for m in self.ups:
            skip = skips.pop()
            x = F.silu(m["gn1"](m["up"](x)))
            if x.shape[-2:] != skip.shape[-2:]:
                x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = m["merge"](torch.cat([x, skip], dim=1)) + m["time"](emb)[:, :, None, None]
            x = F.silu(m["gn2"](m["conv"](x)))
        return self.out(F.silu(self.out_gn(x)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["cnn", "mlp", "unet"], default="cnn")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=None, help="default: 64 (cnn, mlp), 128 (unet)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]; on a GPU the timing synchronises")
    args = parser.parse_args()
    if args.batch is None:
        args.batch = 128 if args.model == "unet" else 64

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    net = {"cnn": CheckerboardCNN, "mlp": BaselineMLP, "unet": MnistUNet}[args.model]().to(device)
    params = sum(p.numel() for p in net.parameters())
    ema = [p.detach().clone() for p in net.parameters()]
    total = args.warmup + args.steps
    opt = torch.optim.AdamW(net.parameters(), lr=3e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=3e-5)
    shape = {"cnn": (args.batch, 4, 16, 16), "mlp": (args.batch, 2), "unet": (args.batch, 2, 28, 28)}[args.model]
    out_shape = (shape[0], 2 * shape[1]) + shape[2:]
    image = args.model != "mlp"

    def step():
        phi, pi = torch.randn(shape, device=device), torch.randn(shape, device=device)
        target = torch.randn(out_shape, device=device)
        t = torch.rand(args.batch, device=device)
        omega = torch.exp(2.0 * t)  # e^{d r_t}, d = 2, r in [0, 1]
        out = net(phi, pi, t)
        per_sample = ((out - target) ** 2).flatten(1).sum(1) if image else ((out - target) ** 2).mean(1)
        loss = (omega * per_sample).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        with torch.no_grad():
            for e, p in zip(ema, net.parameters()):
                e.mul_(0.9999).add_(p, alpha=1 - 0.9999)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(args.warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    elapsed = time.perf_counter() - start
    print(json.dumps({"impl": "pytorch", "model": args.model, "params": params, "threads": args.threads,
                      "device": device.type, "batch": args.batch,
                      "steps": args.steps, "seconds_per_step": elapsed / args.steps}))


if __name__ == "__main__":
    main()
