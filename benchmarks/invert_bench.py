"""Benchmark of dss.invert (issue 3) against gradient descent, on Lei et al.'s random nets.

One run writes ``benchmarks/results/invert_bench.json`` and the plots
``invert_noise.png`` (relative error against noise) and ``invert_times.png``.

* 20-100-500 ReLU net, weights N(0, 1/m): 200 codes, exact inversion (default lp="auto",
  and lp="always", which solves the HiGHS LP of every layer), against the baseline
  run as practitioners do (Adam on ||G(z) - x||^2, lr 0.01, 1000 iterations, 10 random
  restarts, as in Bora et al.'s CSGM code; here in numpy, the restarts batched) on a
  subset of codes because it is slow.
* 20-42-88: 200 codes; layerwise alone (Lei et al.: take the LP's point at every layer)
  against dss.invert with the joint MILP fallback.
* noise: x + U[-eps, eps], l_inf and l_1 LPs (noise bound given) and GD.

BLAS is pinned to one thread (set below, before numpy loads), like HiGHS: per-code
work is small, and a multi-threaded BLAS on a shared 2-core box is 10-100x slower.
Run: ``python benchmarks/invert_bench.py [--quick]``.
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import highspy  # noqa: E402
import numpy as np  # noqa: E402

from dsssolver.invert.lp import LayerLP  # noqa: E402
from dsssolver.invert import Inverter  # noqa: E402
from dsssolver.layers import as_network  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results")


def gauss_net(dims, rng):
    """Lei et al.'s random nets: W ~ N(0, 1) / sqrt(n_out), no bias."""
    return [(rng.normal(size=(dims[i + 1], dims[i])) / np.sqrt(dims[i + 1]), None)
            for i in range(len(dims) - 1)]


def gd_invert(layers, x, rng, lr=0.01, iters=1000, restarts=10, batched=True):
    """Adam on ||G(z) - x||^2 from ``restarts`` N(0, I) starts; the best loss wins.

    ``batched`` runs the restarts as one batch (the faster baseline); otherwise one after
    the other, as the CSGM code's restart loop does.
    """
    if not batched:
        best = [gd_invert(layers, x, rng, lr, iters, 1) for _ in range(restarts)]
        net = as_network(layers)
        return min(best, key=lambda z: float(((net.forward(z) - x) ** 2).sum()))
    Ws = [np.asarray(W) for W, _ in layers]
    bs = [np.zeros(W.shape[0]) if b is None else b for W, b in zip(Ws, (b for _, b in layers))]
    Z = rng.normal(size=(restarts, Ws[0].shape[1]))
    m, v = np.zeros_like(Z), np.zeros_like(Z)
    b1, b2, tiny = 0.9, 0.999, 1e-8
    for t in range(1, iters + 1):
        h, masks = Z, []
        for W, b in zip(Ws, bs):
            p = h @ W.T + b
            masks.append(p > 0)
            h = np.maximum(p, 0)
        g = 2 * (h - x)
        for W, mask in zip(reversed(Ws), reversed(masks)):
            g = (g * mask) @ W
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        Z = Z - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + tiny)
    h = Z
    for W, b in zip(Ws, bs):
        h = np.maximum(h @ W.T + b, 0)
    return Z[np.argmin(((h - x) ** 2).sum(axis=1))]


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def q(a):
    a = np.asarray(a, dtype=float)
    return {"median": float(np.median(a)), "p90": float(np.quantile(a, 0.9)),
            "max": float(a.max()), "min": float(a.min())}


def timed_inversions(inv, G, Z):
    times, errs, res, status, unique = [], [], [], {}, []
    for z in Z:
        x = G.forward(z)
        t = time.perf_counter()
        info = inv.invert(x)
        zh = info.z
        times.append(time.perf_counter() - t)
        errs.append(rel(zh, z))
        res.append(info.residual)
        status[info.status] = status.get(info.status, 0) + 1
        unique.append(info.unique)
    return times, errs, res, status, unique


def bench_500(args, rng):
    dims = (20, 100, 500)
    layers = gauss_net(dims, rng)
    G = as_network(layers)
    Z = rng.normal(size=(args.codes, dims[0]))
    out = {"net": "20-100-500 ReLU, W ~ N(0, 1/m), no bias", "codes": args.codes}
    for lp in ("auto", "always"):
        t = time.perf_counter()
        inv = Inverter(layers, lp=lp)
        inv.invert(G.forward(Z[0]))  # builds the HiGHS models once (warm start after)
        setup = time.perf_counter() - t
        times, errs, res, status, unique = timed_inversions(inv, G, Z)
        out[f"dss_lp_{lp}"] = {
            "seconds_per_code": q(times), "rel_error": q(errs), "rel_residual": q(res),
            "status": status, "unique": int(sum(u is True for u in unique)),
            "all_below_1e-9": bool(max(errs) < 1e-9), "setup_seconds": setup,
            "total_seconds": float(sum(times))}
        print(f"20-100-500 lp={lp}: median {np.median(times) * 1e3:.2f} ms/code, "
              f"max rel err {max(errs):.2e}, {status}")
    n_gd = args.gd_codes
    times, errs = [], []
    for z in Z[:n_gd]:
        x = G.forward(z)
        t = time.perf_counter()
        zh = gd_invert(layers, x, rng)
        times.append(time.perf_counter() - t)
        errs.append(rel(zh, z))
    seq_times, seq_errs = [], []
    for z in Z[:n_gd]:
        x = G.forward(z)
        t = time.perf_counter()
        zh = gd_invert(layers, x, rng, batched=False)
        seq_times.append(time.perf_counter() - t)
        seq_errs.append(rel(zh, z))
    ours = out["dss_lp_auto"]
    out["gd"] = {"codes": n_gd, "note": f"GD run on the first {n_gd} of the {args.codes} codes "
                 "(slow); Adam lr 0.01, 1000 iterations, 10 restarts batched into one numpy "
                 "array (the faster way to run them), best loss wins",
                 "seconds_per_code": q(times), "rel_error": q(errs)}
    out["gd_sequential_restarts"] = {
        "codes": n_gd, "note": "the same, restarts one after the other as in CSGM's loop",
        "seconds_per_code": q(seq_times), "rel_error": q(seq_errs)}
    ours_sub = ours["rel_error"]
    out["speedup_median_gd_over_dss_auto"] = float(np.median(times)
                                                   / ours["seconds_per_code"]["median"])
    out["speedup_median_gd_over_dss_always"] = float(
        np.median(times) / out["dss_lp_always"]["seconds_per_code"]["median"])
    for mode in ("auto", "always"):
        out[f"speedup_median_gd_sequential_over_dss_{mode}"] = float(
            np.median(seq_times) / out[f"dss_lp_{mode}"]["seconds_per_code"]["median"])
    out["checks"] = {
        "every_code_rel_error_below_1e-9": ours["all_below_1e-9"]
        and out["dss_lp_always"]["all_below_1e-9"],
        "median_under_20ms_auto": ours["seconds_per_code"]["median"] < 0.02,
        "median_under_20ms_always": out["dss_lp_always"]["seconds_per_code"]["median"] < 0.02,
        "at_least_20x_faster_than_gd_default_lp_auto": out["speedup_median_gd_over_dss_auto"]
        >= 20,
        "at_least_20x_faster_than_gd_lp_always": out["speedup_median_gd_over_dss_always"] >= 20,
        "at_least_20x_faster_than_gd_sequential_lp_always":
        out["speedup_median_gd_sequential_over_dss_always"] >= 20,
        "more_accurate_than_gd_worst_vs_best": ours_sub["max"] < min(errs + seq_errs)}
    print(f"GD: median {np.median(times):.2f} s/code, median rel err {np.median(errs):.2e}; "
          f"speedup {out['speedup_median_gd_over_dss_auto']:.0f}x (auto), "
          f"{out['speedup_median_gd_over_dss_always']:.0f}x (always)")
    return out, layers, G, times


def layerwise_alone(layers, x):
    """Lei et al.'s layerwise inversion: the LP's point at every layer, no uniqueness check."""
    net = as_network(layers)
    y = x
    for k in reversed(range(len(net.layers))):
        layer = net.layers[k]
        st, u, _, _ = LayerLP(layer, k > 0, "exact").solve(y - layer.b, y > 0)
        if st != "optimal":
            return None
        if k > 0:  # snap LP round-off (1e-13 where the truth is 0), or the next LP fails
            u = np.where(u > 1e-9 * max(1.0, np.abs(u).max()), u, 0.0)
        y = u
    return y


def bench_88(args, rng):
    dims = (20, 42, 88)
    layers = gauss_net(dims, rng)
    G = as_network(layers)
    Z = rng.normal(size=(args.codes, dims[0]))
    inv = Inverter(layers)
    rows = []
    for z in Z:
        x = G.forward(z)
        zl = layerwise_alone(layers, x)
        lw_ok = zl is not None and rel(zl, z) < 1e-6
        t = time.perf_counter()
        info = inv.invert(x)
        zh = info.z
        secs = time.perf_counter() - t
        rows.append({"status": info.status, "unique": info.unique, "residual": info.residual,
                     "rel_error": rel(zh, z), "seconds": secs, "layerwise_alone_ok": lw_ok,
                     "not_point_layers": [li.layer for li in info.layers
                                          if li.status == "not_unique"],
                     "boxed": bool(info.joint and info.joint.boxed)})
    n = len(rows)
    uniq = [r for r in rows if r["unique"] is True]
    out = {
        "net": "20-42-88 ReLU, W ~ N(0, 1/m), no bias", "codes": n,
        "layerwise_alone_recovered": sum(r["layerwise_alone_ok"] for r in rows) / n,
        "status": {s: sum(r["status"] == s for r in rows) for s in {r["status"] for r in rows}},
        "preimage_single_point": len(uniq),
        "preimage_not_single_point": sum(r["unique"] is False for r in rows),
        "preimage_undecided": sum(r["unique"] is None for r in rows),
        "joint_used": sum(r["status"] == "joint" for r in rows),
        "joint_with_imposed_box": sum(r["boxed"] for r in rows),
        "joint_and_single_point": sum(r["status"] == "joint" and r["unique"] is True
                                      for r in rows),
        "max_rel_residual": max(r["residual"] for r in rows),
        "max_rel_error_where_single_point": max((r["rel_error"] for r in uniq), default=None),
        "seconds_per_code": q([r["seconds"] for r in rows]),
        "seconds_per_joint_code": q([r["seconds"] for r in rows if r["status"] == "joint"] or [0]),
        "not_single_point_because": {
            "first_layer": sum(r["unique"] is False and r["status"] == "exact" for r in rows),
            "joint_milp_found_another_preimage": sum(r["unique"] is False
                                                     and r["status"] == "joint" for r in rows)},
    }
    out["checks"] = {
        "every_code_residual_below_1e-9": out["max_rel_residual"] < 1e-9,
        "z_equal_where_single_point": (out["max_rel_error_where_single_point"] or 0) < 1e-9,
        "every_code_decided": out["preimage_undecided"] == 0}
    print(f"20-42-88: layerwise alone {out['layerwise_alone_recovered']:.1%}; {out['status']}; "
          f"single point {len(uniq)}/{n}; max residual {out['max_rel_residual']:.1e}; "
          f"max err where single point {out['max_rel_error_where_single_point']:.1e}")
    return out


def bench_noise(args, rng, layers, G):
    levels = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
    Z = rng.normal(size=(args.noise_codes, G.latent_dim))
    rms = float(np.sqrt(np.mean(G.forward(Z) ** 2)))
    res = {"levels": levels, "noise": "x + U[-eps, eps] per entry; noise bound eps given",
           "lei_thresholds": "every positive hidden entry read as active (Lei et al.); "
                             "default: threshold at the layer above's estimated error",
           "rms_of_x": rms, "codes_per_level": args.noise_codes,
           "gd_codes_per_level": args.noise_gd_codes}
    for method, lei in (("linf", False), ("l1", False), ("linf", True), ("l1", True)):
        med, p90, bound = [], [], []
        for eps in levels:
            inv = Inverter(layers, method=method, noise=eps, lei_thresholds=lei)
            e, bd = [], []
            for z in Z:
                x = G.forward(z) + rng.uniform(-eps, eps, size=G.output_dim)
                info = inv.invert(x)
                zh = info.z
                e.append(rel(zh, z))
                bd.append(info.error_bound / np.linalg.norm(z))
            med.append(float(np.median(e)))
            p90.append(float(np.quantile(e, 0.9)))
            bound.append(float(np.median(bd)))
        key = method + ("_lei_thresholds" if lei else "")
        res[key] = {"median_rel_error": med, "p90_rel_error": p90,
                    "median_rel_error_bound": bound}
        print(key, ["%.2e" % m for m in med])
    med, p90 = [], []
    for eps in levels:
        e = []
        for z in Z[: args.noise_gd_codes]:
            x = G.forward(z) + rng.uniform(-eps, eps, size=G.output_dim)
            e.append(rel(gd_invert(layers, x, rng), z))
        med.append(float(np.median(e)))
        p90.append(float(np.quantile(e, 0.9)))
    res["gd"] = {"median_rel_error": med, "p90_rel_error": p90}
    print("gd", ["%.2e" % m for m in med])
    return res


def plots(doc, gd_times):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = doc["noise"]
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for key, lab, col in (("linf", "l_inf LP", "C0"), ("l1", "l_1 LP", "C1"),
                          ("gd", "GD (Adam, 10 restarts)", "C2")):
        ax.loglog(n["levels"], n[key]["median_rel_error"], "o-", color=col, label=lab)
        ax.fill_between(n["levels"], n[key]["median_rel_error"], n[key]["p90_rel_error"],
                        color=col, alpha=0.15)
        if key + "_lei_thresholds" in n:
            ax.loglog(n["levels"], n[key + "_lei_thresholds"]["median_rel_error"], "x:",
                      color=col, alpha=0.8, label=f"{lab}, Lei et al.'s hidden thresholds")
        if "median_rel_error_bound" in n[key]:
            b = np.array(n[key]["median_rel_error_bound"])
            ok = np.isfinite(b)
            ax.loglog(np.array(n["levels"])[ok], b[ok], "--", color=col, alpha=0.7,
                      label=f"{lab}: proven bound")
    ax.set_xlabel("noise level eps (x + U[-eps, eps])")
    ax.set_ylabel("||z_hat - z|| / ||z||  (median, band to p90)")
    ax.set_title("20-100-500 random ReLU net")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(OUT, "invert_noise.png"), dpi=120)
    plt.close(fig)

    b = doc["relu_20_100_500"]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    names = ["dss lp=auto", "dss lp=always", "GD (restarts batched)", "GD (restarts in turn)"]
    meds = [b["dss_lp_auto"]["seconds_per_code"]["median"],
            b["dss_lp_always"]["seconds_per_code"]["median"], float(np.median(gd_times)),
            b["gd_sequential_restarts"]["seconds_per_code"]["median"]]
    errs = [b["dss_lp_auto"]["rel_error"]["max"], b["dss_lp_always"]["rel_error"]["max"],
            b["gd"]["rel_error"]["median"], b["gd_sequential_restarts"]["rel_error"]["median"]]
    ax.barh(names, meds, color=["C0", "C1", "C2", "C2"])
    ax.set_xscale("log")
    for i, (t, e) in enumerate(zip(meds, errs)):
        ax.text(t, i, f"  {t * 1e3:.3g} ms, rel err {'max' if i < 2 else 'median'} {e:.1e}",
                va="center", fontsize=8)
    ax.set_xlabel("seconds per code (median)")
    ax.set_title("Exact inversion, 20-100-500")
    ax.set_xlim(min(meds) / 3, max(meds) * 300)
    fig.tight_layout()
    fig.savefig(os.path.join(OUT, "invert_times.png"), dpi=120)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="few codes, for a smoke run")
    ap.add_argument("--seed", type=int, default=2019)
    args = ap.parse_args()
    args.codes = 20 if args.quick else 200
    args.gd_codes = 3 if args.quick else 20
    args.noise_codes = 5 if args.quick else 30
    args.noise_gd_codes = 2 if args.quick else 10
    rng = np.random.default_rng(args.seed)
    os.makedirs(OUT, exist_ok=True)
    t0 = time.time()
    doc = {"issue": 3, "seed": args.seed, "quick": args.quick,
           "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                       "numpy": np.__version__, "highspy": highspy.__version__ if hasattr(
                           highspy, "__version__") else "1.15.1",
                       "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                       "highs_threads": 1}}
    doc["relu_20_100_500"], layers, G, gd_times = bench_500(args, rng)
    doc["relu_20_42_88"] = bench_88(args, rng)
    doc["noise"] = bench_noise(args, rng, layers, G)
    doc["wall_seconds"] = time.time() - t0
    name = "invert_bench_quick.json" if args.quick else "invert_bench.json"
    with open(os.path.join(OUT, name), "w") as fh:
        json.dump(doc, fh, indent=1)
    plots(doc, gd_times)
    print(f"wrote {os.path.join(OUT, name)} in {doc['wall_seconds']:.0f} s")


if __name__ == "__main__":
    main()
