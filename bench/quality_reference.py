# Independent PyTorch re-implementation of the physics-free checkerboard baseline (PAPER.md §4.3, §5),
# used as an oracle for the Rust trainer's sample quality and to choose the CPU presets:
# 4-D phase space (phi = normalised point, pi = 0.1 noise), prior phi~N(0,1), pi~N(0,0.55),
# linear path, omega = e^{2t} weighted loss, MLP with sinusoidal(1000 t) embedding and optional
# input Fourier features sin/cos(2^j pi x), j < ff (the Rust MlpConfig::fourier_octaves).
# Usage: python bench/quality_reference.py STEPS HIDDEN LR BATCH EMA [w|u] FF DEPTH
# Prints the boundary violation of 4000 RK4-50 samples of the EMA model.
import math, sys, time, torch, numpy as np
torch.set_num_threads(1)
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
hidden = int(sys.argv[2]) if len(sys.argv) > 2 else 256
lr = float(sys.argv[3]) if len(sys.argv) > 3 else 2e-3
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 256
ema_decay = float(sys.argv[5]) if len(sys.argv) > 5 else 0.995
weighted = (sys.argv[6] if len(sys.argv) > 6 else "w") == "w"
ff = int(sys.argv[7]) if len(sys.argv) > 7 else 0
depth = int(sys.argv[8]) if len(sys.argv) > 8 else 3
torch.manual_seed(1); rng = np.random.default_rng(1)
def checker(n):
    out = []
    while sum(len(o) for o in out) < n:
        p = rng.uniform(0, 4, size=(2 * n, 2))
        keep = (np.floor(p[:, 0]) + np.floor(p[:, 1])) % 2 == 0
        out.append((p[keep] - 2) * 2)
    return np.concatenate(out)[:n]
data = checker(50000); mean, std = data.mean(), data.std()
X = torch.tensor((data - mean) / std, dtype=torch.float32)
class Net(torch.nn.Module):
    def __init__(s, h, depth=3, tdim=64):
        super().__init__(); s.tdim = tdim
        layers = []; w = 4 + tdim + 4 * ff * 2
        for _ in range(depth): layers += [torch.nn.Linear(w, h), torch.nn.SiLU()]; w = h
        layers.append(torch.nn.Linear(w, 4)); s.net = torch.nn.Sequential(*layers)
        half = tdim // 2
        s.register_buffer("freqs", torch.exp(-math.log(1e4) * torch.arange(half) / half))
    def forward(s, x, t):
        a = (1000 * t)[:, None] * s.freqs[None]
        feats = [x, torch.sin(a), torch.cos(a)]
        for j in range(ff):
            z = x * (math.pi * 2 ** j)
            feats += [torch.sin(z), torch.cos(z)]
        return s.net(torch.cat(feats, 1))
net = Net(hidden, depth); ema = Net(hidden, depth); ema.load_state_dict(net.state_dict())
opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-5)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=0.1 * lr)
t0 = time.time()
for step in range(1, steps + 1):
    idx = torch.randint(0, len(X), (batch,))
    x1 = torch.cat([X[idx], 0.1 * torch.randn(batch, 2)], 1)
    x0 = torch.cat([torch.randn(batch, 2), math.sqrt(0.55) * torch.randn(batch, 2)], 1)
    t = torch.rand(batch)
    xt = (1 - t[:, None]) * x0 + t[:, None] * x1
    u = x1 - x0
    w = torch.exp(2 * t) if weighted else torch.ones_like(t)
    r = net(xt, t) - u
    loss = (w * (r[:, :2].pow(2).mean(1) + r[:, 2:].pow(2).mean(1))).mean()
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    opt.step(); sched.step()
    with torch.no_grad():
        d = 0.0 if step < 200 else ema_decay
        for pe, p in zip(ema.parameters(), net.parameters()): pe.mul_(d).add_(p, alpha=1 - d)
train_s = time.time() - t0
n = 4000
with torch.no_grad():
    x = torch.cat([torch.randn(n, 2), math.sqrt(0.55) * torch.randn(n, 2)], 1); h = 1 / 50
    for i in range(50):
        t = torch.full((n,), i * h)
        k1 = ema(x, t); k2 = ema(x + h / 2 * k1, t + h / 2); k3 = ema(x + h / 2 * k2, t + h / 2); k4 = ema(x + h * k3, t + h)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
pts = x[:, :2].numpy() * std + mean
inside = (np.abs(pts) < 4).all(1)
cell = np.floor((pts + 4) / 2)
valid = inside & ((cell[:, 0] + cell[:, 1]) % 2 == 0)
print(f"steps {steps} hidden {hidden} lr {lr} batch {batch} ema {ema_decay} weighted {weighted} ff {ff} depth {depth}: BV {1 - valid.mean():.4f}  train {train_s:.1f}s")
