"""Benchmark of the inverse Lipschitz constants (issue 8, seed Theorem 3).

For each layer: the seed's ``C(W) = S / sqrt(2m)`` computed by ``dss.inverse_lipschitz``
(branch-and-bound over cells, with a time limit), the proved bracket of the true constant
``S_lower / sqrt(2) <= L <= upper`` from ``dss.lipschitz_estimate`` (upper = best pair found by
local search, ratio computed exactly), and a naive estimate: the least ratio over random pairs.

Layers:

* Corollary 2 constructions, built exactly (integer B, D = diag of powers of two, so -DB is
  exact in float64): ``[B; -DB]`` and ``[B; -DB; M]`` with n integer rows M, n = 2..12;
* Gaussian layers ``m = 10 n``, n = 4..12 (seed 0), where injectivity is likely (MATH.md 7).

Writes ``benchmarks/results/stability_bench.json`` and ``stability_bench.png``.
Run: ``nice python benchmarks/stability_bench.py [--quick] [--time-limit 30]``.
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _machine  # noqa: E402
import dsssolver as dss  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results")


def b_negdb(rng, n, extra=0):
    """[B; -DB] (and n extra integer rows M) with B integer invertible, D powers of two: exact."""
    while True:
        B = rng.integers(-3, 4, size=(n, n))
        if abs(np.linalg.det(B)) >= 0.5:
            break
    D = 2.0 ** rng.integers(-1, 3, size=(n, 1))
    parts = [B, -D * B] + ([rng.integers(-3, 4, size=(extra, n))] if extra else [])
    return np.vstack(parts).astype(float)


def naive_sample(W, rng, pairs=20000):
    """The least ratio over random pairs (Gaussian points at random scales)."""
    n = W.shape[1]
    s = rng.choice([0.01, 0.1, 1.0, 10.0], size=(pairs, 2))
    X = rng.standard_normal((pairs, n)) * s[:, :1]
    Y = rng.standard_normal((pairs, n)) * s[:, 1:]
    r = np.linalg.norm(np.maximum(X @ W.T, 0) - np.maximum(Y @ W.T, 0), axis=1)
    return float(np.min(r / np.linalg.norm(X - Y, axis=1)))


def run_layer(kind, W, time_limit, rng):
    m, n = W.shape
    cells = dss.inverse_lipschitz(W, time_limit=time_limit)
    est = dss.lipschitz_estimate(W, cells=cells, restarts=32, iterations=300)
    row = {
        "kind": kind, "m": m, "n": n,
        "status": cells.status, "message": cells.message,
        "S": cells.min_sigma, "S_lower": cells.lower_bound, "gap": cells.gap,
        "S_interval": [cells.lower_bound, cells.min_sigma],
        "seed_C": cells.value, "seed_C_lower": cells.lower_bound / math.sqrt(2 * m),
        "L_lower": est.lower, "L_upper": est.upper, "L_upper_source": est.stats["source"],
        "naive_sampled": naive_sample(W, rng),
        "cell_certified": cells.cell_certified, "active_rows": len(cells.active),
        "injective": cells.injective,
        "nodes": cells.stats["nodes"], "lps": cells.stats["lps"],
        "seconds": cells.stats["seconds"], "estimate_seconds": est.stats["seconds"],
    }
    row["looseness_upper_over_C"] = row["L_upper"] / row["seed_C"] if row["seed_C"] > 0 else None
    print(f"{kind:10s} {m:4d}x{n:<3d} {cells.status:8s} S={cells.min_sigma:.4g} "
          f"[lb {cells.lower_bound:.4g}]  C={cells.value:.4g}  L in [{est.lower:.4g}, {est.upper:.4g}]"
          f"  naive {row['naive_sampled']:.4g}  nodes {row['nodes']}  {row['seconds']:.1f} s",
          flush=True)
    return row


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for ax, kind in zip(axes[:2], ("gaussian", "b_negdb_m")):
        rs = [r for r in rows if r["kind"] == kind]
        ns = [r["n"] for r in rs]
        done = [r for r in rs if r["status"] == "optimal"]
        cut = [r for r in rs if r["status"] != "optimal"]
        ax.semilogy([r["n"] for r in done], [r["seed_C"] for r in done], "o", color="C0",
                    label="seed C(W) = S/sqrt(2m)")
        ax.semilogy([r["n"] for r in cut], [r["seed_C"] for r in cut], "o", mfc="none", color="C0",
                    label="S_best/sqrt(2m), search cut by the limit (an upper bound)")
        for r in cut:  # the proved interval of C(W) when the limit stopped the search
            lo = r["seed_C_lower"] if r["seed_C_lower"] > 0 else r["seed_C"] * 1e-2
            ax.vlines(r["n"], lo, r["seed_C"], color="C0", lw=2, alpha=0.5,
                      linestyles="-" if r["seed_C_lower"] > 0 else ":")
        ax.plot([], [], color="C0", lw=2, alpha=0.5,
                label="proved interval of C(W) at the limit (dotted: lower bound 0)")
        pos = [r for r in rs if r["L_lower"] > 0]
        ax.semilogy([r["n"] for r in pos], [r["L_lower"] for r in pos], "s-", color="C1",
                    label="proved lower bound S_lb/sqrt(2) (0 at a limit: not drawn)")
        ax.semilogy(ns, [r["L_upper"] for r in rs], "^-", color="C2", label="best pair found (upper)")
        ax.semilogy(ns, [r["naive_sampled"] for r in rs], "x:", color="C3",
                    label="least ratio of 20000 random pairs")
        ax.set_xlabel("n")
        ax.set_title({"gaussian": "Gaussian, m = 10n", "b_negdb_m": "[B; -DB; M], m = 3n"}[kind])
        ax.legend(fontsize=7)
    ax = axes[2]
    for kind, mark in (("gaussian", "o"), ("b_negdb", "s"), ("b_negdb_m", "^")):
        rs = [r for r in rows if r["kind"] == kind]
        ax.semilogy([r["n"] for r in rs], [max(r["seconds"], 1e-3) for r in rs], mark + "-",
                    label=f"{kind}: seconds")
        ax.semilogy([r["n"] for r in rs], [r["nodes"] for r in rs], mark + ":", label=f"{kind}: nodes")
    ax.set_xlabel("n")
    ax.set_title("branch-and-bound effort (time-limited)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small n only, for a smoke run")
    ap.add_argument("--time-limit", type=float, default=30.0, help="seconds per layer")
    ap.add_argument("--gaussian", type=int, nargs="*", default=None,
                    help="the n of the Gaussian layers (default 4..12)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot-only", action="store_true", help="redraw the PNG from the JSON")
    args = ap.parse_args()
    stem = "stability_bench.quick" if args.quick else "stability_bench"
    if args.plot_only:
        with open(os.path.join(OUT, stem + ".json")) as fh:
            plot(json.load(fh)["rows"], os.path.join(OUT, stem + ".png"))
        return
    hashes = _machine.preimport_and_hash()
    t0 = time.time()
    rng = np.random.default_rng(args.seed)
    ns_c = [2, 3, 4] if args.quick else [2, 4, 6, 8, 10, 12]
    ns_g = [4, 5] if args.quick else list(range(4, 13))
    if args.gaussian is not None:
        ns_g = args.gaussian
    rows = []
    for n in ns_c:
        rows.append(run_layer("b_negdb", b_negdb(rng, n), args.time_limit, rng))
        rows.append(run_layer("b_negdb_m", b_negdb(rng, n, extra=n), args.time_limit, rng))
    for n in ns_g:
        W = np.random.default_rng([args.seed, n]).standard_normal((10 * n, n))
        rows.append(run_layer("gaussian", W, args.time_limit, rng))
    doc = {
        "issue": 8, "quick": args.quick, "time_limit_per_layer": args.time_limit,
        "machine": _machine.machine_facts(hashes, note="shared 2-core machine, run under nice: "
                                          "times are noisy"),
        "rows": rows, "wall_seconds": time.time() - t0,
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, stem + ".json"), "w") as fh:
        json.dump(doc, fh, indent=1)
    plot(rows, os.path.join(OUT, stem + ".png"))
    print(f"wrote {os.path.join(OUT, stem)}.json/.png in {doc['wall_seconds']:.0f} s")


if __name__ == "__main__":
    main()
