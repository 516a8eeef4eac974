"""The seed's inference experiment (Puthawala et al. 2022, Section 4, Table 1) at small scale.

What it does: on scikit-learn's 8x8 digits (1,797 images, 64 pixels in [0, 1]) it trains two
small fully connected generators of the same layer sizes, 8 -> 32 -> 64 -> 64 (ReLU, ReLU,
linear):

* regular: ordinary weights;
* injective: every ReLU layer has weights ``[C; -s^2 C]`` and biases ``[c; -s^2 c]``
  (s = 1), the seed's construction, so each ReLU layer is injective when C is.

Both are trained the same way, by matching samples to data with a multi-bandwidth Gaussian
MMD (a generative moment-matching network: stable and quick on a CPU, unlike a GAN's
adversarial training).  Then:

* sample quality: the Frechet distance between Gaussians fitted to 1,797 real and 1,797
  generated images (the "fitted-Gaussian" distance; FID does the same on Inception features);
* inference: codes ``z ~ N(0, I)``, ``x = G(z)`` (noise-free, and with Gaussian noise of
  relative size 1e-2); codes recovered by ``dss.invert`` (exact, resp. ``l2`` with the noise
  std) and by gradient descent (Adam, 5 restarts); W2 between the Gaussians fitted to z and
  to the recovered codes, and the median relative error of the codes.

What it does not reproduce: the seed's DCGANs on CelebA / FFHQ at 64x64x3, its GAN training,
FID and IS on Inception features, or its exact protocol for Table 1; the nets here are tiny
and fully connected.  It shows the same mechanism at a scale this machine runs in minutes.

Writes ``benchmarks/results/inference_experiment.json`` and ``inference_experiment.png``.
Needs the optional extras: torch (``pip install torch==2.13.0``) and scikit-learn.
Run: ``nice python benchmarks/inference_experiment.py [--quick]``.
"""
import argparse
import json
import os
import time

import numpy as np
import torch

import dsssolver as dss

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results")
nn = torch.nn
SIZES = (8, 32, 64, 64)


class Doubled(nn.Module):
    """``x -> [C x + c; -s^2 (C x + c)]``: the seed's injective ReLU layer before the ReLU."""

    def __init__(self, n_in, n_out, s=1.0):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out // 2)
        self.s2 = s * s

    def forward(self, x):
        y = self.lin(x)
        return torch.cat([y, -self.s2 * y], dim=-1)

    def dense(self):
        W = self.lin.weight.detach().double().numpy()
        b = self.lin.bias.detach().double().numpy()
        return np.vstack([W, -self.s2 * W]), np.r_[b, -self.s2 * b]


def make_generator(injective):
    a, b, c, d = SIZES
    first = (Doubled(a, b), Doubled(b, c)) if injective else (nn.Linear(a, b), nn.Linear(b, c))
    return nn.Sequential(first[0], nn.ReLU(), first[1], nn.ReLU(), nn.Linear(c, d)).double()


def layers_of(net):
    """The generator as dsssolver layers ``[(W, b), ...]``."""
    out = []
    for m in net:
        if isinstance(m, Doubled):
            out.append(m.dense())
        elif isinstance(m, nn.Linear):
            out.append((m.weight.detach().double().numpy(), m.bias.detach().double().numpy()))
    return out


def mmd(a, b, scales=(0.5, 1.0, 2.0, 4.0, 8.0)):
    def k(x, y):
        d = torch.cdist(x, y) ** 2
        return sum(torch.exp(-d / (2 * s * s)) for s in scales)
    return k(a, a).mean() + k(b, b).mean() - 2 * k(a, b).mean()


def train(net, data, steps, seed):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    X = torch.as_tensor(data)
    for t in range(steps):
        idx = torch.randint(len(X), (256,))
        z = torch.randn(256, SIZES[0], dtype=torch.float64)
        loss = mmd(net(z), X[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if t % 500 == 0:
            print(f"  step {t}: mmd {loss.item():.4f}", flush=True)
    return net


def gauss_w2(A, B):
    """W2 between Gaussians fitted to the rows of A and B (closed form)."""
    m1, m2 = A.mean(0), B.mean(0)
    S1, S2 = np.cov(A.T), np.cov(B.T)
    w, V = np.linalg.eigh(S1)
    r1 = (V * np.sqrt(np.maximum(w, 0))) @ V.T
    w, V = np.linalg.eigh(r1 @ S2 @ r1)
    cross = (V * np.sqrt(np.maximum(w, 0))) @ V.T
    return float(np.sqrt(max(((m1 - m2) ** 2).sum() + np.trace(S1 + S2 - 2 * cross), 0.0)))


def gd(net, x, iters=500, restarts=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    Z = torch.randn(restarts, SIZES[0], dtype=torch.float64, generator=gen).requires_grad_(True)
    opt = torch.optim.Adam([Z], lr=0.02)
    X = torch.as_tensor(x)
    for _ in range(iters):
        opt.zero_grad()
        loss = ((net(Z) - X) ** 2).sum(1)
        loss.sum().backward()
        opt.step()
    with torch.no_grad():
        loss = ((net(Z) - X) ** 2).sum(1)
    return Z[int(torch.argmin(loss))].detach().numpy()


def inference(net, codes, noise, rng):
    layers = layers_of(net)
    G = dss.layers.as_network(layers, last_activation="linear")
    X = G.forward(codes)
    rows = {"dss": [], "gd": []}
    secs = {"dss": 0.0, "gd": 0.0}
    status = {}
    for i, (z, x) in enumerate(zip(codes, X)):
        sigma = noise * np.linalg.norm(x) / np.sqrt(len(x))
        xn = x + sigma * rng.normal(size=len(x)) if noise else x
        t = time.perf_counter()
        res = dss.invert(layers, xn, last_activation="linear",
                         **({"method": "l2", "noise_std": sigma} if noise else {}))
        secs["dss"] += time.perf_counter() - t
        status[res.status] = status.get(res.status, 0) + 1
        zd = res.z if np.all(np.isfinite(res.z)) else np.zeros_like(z)
        t = time.perf_counter()
        zg = gd(net, xn, seed=i)
        secs["gd"] += time.perf_counter() - t
        rows["dss"].append(zd)
        rows["gd"].append(zg)
    out = {"status_dss": status}
    for k, Zr in rows.items():
        Zr = np.array(Zr)
        err = np.linalg.norm(Zr - codes, axis=1) / np.linalg.norm(codes, axis=1)
        out[k] = {"w2_to_z": gauss_w2(codes, Zr), "median_rel_error": float(np.median(err)),
                  "p90_rel_error": float(np.quantile(err, 0.9)),
                  "seconds_per_code": secs[k] / len(codes)}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--codes", type=int, default=None)
    args = ap.parse_args()
    from sklearn.datasets import load_digits

    torch.set_num_threads(1)
    steps = args.steps or (200 if args.quick else 3000)
    ncodes = args.codes or (20 if args.quick else 200)
    data = load_digits().data / 16.0
    rng = np.random.default_rng(0)
    doc = {"what": __doc__.split("\n\n")[0], "dataset": "sklearn digits, 1797 x 64, / 16",
           "sizes": SIZES, "train_steps": steps, "codes": ncodes,
           "training": "Adam lr 2e-3, batch 256, multi-bandwidth Gaussian MMD"}
    samples = {}
    t0 = time.time()
    for name, inj in (("regular", False), ("injective", True)):
        print(name, flush=True)
        torch.manual_seed(1)
        net = train(make_generator(inj), data, steps, seed=1)
        with torch.no_grad():
            S = net(torch.randn(len(data), SIZES[0], dtype=torch.float64)).numpy()
        samples[name] = S[:16]
        codes = rng.normal(size=(ncodes, SIZES[0]))
        doc[name] = {"frechet_distance_to_data": gauss_w2(data, S) ** 2,
                     "noise_free": inference(net, codes, 0.0, rng),
                     "noise_1e-2": inference(net, codes, 1e-2, rng)}
        print(name, json.dumps(doc[name], indent=1), flush=True)
    doc["wall_seconds"] = time.time() - t0
    doc["does_not_reproduce"] = ("the seed's DCGAN / CelebA / FFHQ scale, GAN training, FID / "
                                 "IS on Inception features, its Table 1 protocol")
    os.makedirs(OUT, exist_ok=True)
    name = "inference_experiment_quick" if args.quick else "inference_experiment"
    with open(os.path.join(OUT, name + ".json"), "w") as fh:
        json.dump(doc, fh, indent=1)
    plot(doc, samples, data, os.path.join(OUT, name + ".png"))
    print(f"wrote {name}.json in {doc['wall_seconds']:.0f} s")


def plot(doc, samples, data, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(11, 4))
    for j, (title, imgs) in enumerate((("data", data[:16]), ("regular", samples["regular"]),
                                        ("injective", samples["injective"]))):
        ax = fig.add_subplot(1, 4, j + 1)
        grid = np.vstack([np.hstack([imgs[4 * r + c].reshape(8, 8) for c in range(4)])
                          for r in range(4)])
        ax.imshow(grid, cmap="gray_r")
        ax.set_title(title if j == 0 else
                     f"{title} (FD {doc[title]['frechet_distance_to_data']:.2f})", fontsize=9)
        ax.axis("off")
    ax = fig.add_subplot(1, 4, 4)
    labels, vals = [], []
    for g in ("regular", "injective"):
        for setting in ("noise_free", "noise_1e-2"):
            for m in ("dss", "gd"):
                labels.append(f"{g[:3]} {setting[:5]} {m}")
                vals.append(doc[g][setting][m]["w2_to_z"])
    ax.barh(labels, vals, color=["C0", "C2"] * 4)
    ax.set_xscale("symlog", linthresh=1e-3)
    ax.set_xlabel("W2(z, recovered codes)")
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
