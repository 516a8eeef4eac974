"""Benchmark of dss.invert (issues 3 and 10) against gradient descent.

Issue 10 sections (default), in this order:

* ``noise`` -- relative error against Gaussian noise for linf, l1, l2 (given noise_std),
  l2 with the noise estimated, and GD, on 20-100-500 and 20-60-784 (``invert_noise.png``);
  ``checks`` says whether l2's median is at most GD's at every level (same codes).
* ``batch`` -- 1,000 codes on 20-100-500 with 1 and 2 processes, interleaved rounds: the
  wall-time speed-up (``batch.speedup_2_over_1``, target 1.7), its CPU-time ideal
  (``batch.speedup_2_over_1_cpu_ideal``) and the load average of every round; and the
  library's one-BLAS-thread limit against default BLAS threads.
* ``dcgan`` -- DCGAN-style 64x64x3 generators (injective and regular) inverted image by
  image, dss (exact, and l2 under noise) against GD (torch), time per image.

``exact`` (not default) runs the issue-3 sections: exact inversion of 20-100-500 against
GD, 20-42-88 with the joint MILP, uniform noise with the noise bound given.

The JSON is rewritten after every section and every DCGAN image, so a slow or failing
later section keeps the earlier ones (``sections_done``, ``errors``, ``complete``).
It goes to ``results/invert_bench.json``, or ``results/invert_bench.quick.json`` with
``--quick`` (figures likewise get ``.quick``), or ``--out PATH`` (figures beside it).
An existing JSON is merged into, not replaced: the sections this run does not make are
kept as they were (``runs`` lists every run that wrote the file, with its sections and
machine load); ``--fresh`` starts a new file.
Run: ``python benchmarks/invert_bench.py [--quick] [--out PATH] [--sections noise,batch]
[--noise-codes N] [--fresh]``.
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np

import dsssolver as dss
from dsssolver.invert import Inverter
from dsssolver.invert.lp import LayerLP
from dsssolver.layers import as_network

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

HERE = os.path.dirname(os.path.abspath(__file__))


def log(*args, **kw):
    """Progress on stderr (``dss bench`` shows its last line)."""
    print(*args, file=sys.stderr, flush=True, **kw)
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
        log(f"20-100-500 lp={lp}: median {np.median(times) * 1e3:.2f} ms/code, "
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
    log(f"GD: median {np.median(times):.2f} s/code, median rel err {np.median(errs):.2e}; "
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
    log(f"20-42-88: layerwise alone {out['layerwise_alone_recovered']:.1%}; {out['status']}; "
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
        log(key, ["%.2e" % m for m in med])
    med, p90 = [], []
    for eps in levels:
        e = []
        for z in Z[: args.noise_gd_codes]:
            x = G.forward(z) + rng.uniform(-eps, eps, size=G.output_dim)
            e.append(rel(gd_invert(layers, x, rng), z))
        med.append(float(np.median(e)))
        p90.append(float(np.quantile(e, 0.9)))
    res["gd"] = {"median_rel_error": med, "p90_rel_error": p90}
    log("gd", ["%.2e" % m for m in med])
    return res


def noisy_x(G, z, level, rng):
    """x + Gaussian noise of std ``level * ||x|| / sqrt(m)`` (relative noise ``level``)."""
    x = G.forward(z)
    sigma = level * np.linalg.norm(x) / np.sqrt(len(x))
    return x + sigma * rng.normal(size=len(x)), sigma


def bench_noise_methods(args, rng, dims):
    """Relative error against noise: linf, l1, l2 (noise_std given), l2 estimated, GD."""
    layers = gauss_net(dims, rng)
    G = as_network(layers)
    levels = [1e-4, 1e-3, 1e-2, 1e-1]
    methods = [("linf", True), ("l1", True), ("l2", True), ("l2", False)]
    out = {"net": "-".join(map(str, dims)) + " ReLU, W ~ N(0, 1/m), no bias", "levels": levels,
           "noise": "x + sigma N(0, I), sigma = level ||x|| / sqrt(m); methods given noise_std "
                    "= sigma unless '_estimated'; GD (Adam, 10 restarts) is given nothing",
           "codes_per_level": args.noise_codes, "gd_codes_per_level": args.noise_gd_codes,
           "loadavg_at_start": _uptime(),
           "timing_note": "median_seconds are wall times on the machine as it was (see the "
                          "load averages): compare methods with each other, not across runs"}
    errs, losses = {}, {}
    for level in levels:
        Z = rng.normal(size=(args.noise_codes, dims[0]))
        for i, z in enumerate(Z):
            xn, sigma = noisy_x(G, z, level, rng)
            for method, given in methods:
                key = method + ("" if given else "_estimated")
                t = time.perf_counter()
                res = dss.invert(layers, xn, method=method,
                                 **({"noise_std": sigma} if given else {}))
                secs = time.perf_counter() - t
                errs.setdefault(key, {}).setdefault(level, []).append(
                    (rel(res.z, z), res.error_bound / np.linalg.norm(z), secs,
                     bool(res.success), bool(np.linalg.norm(res.z - z) <= res.error_bound)))
                if key == "l2":
                    losses.setdefault(level, []).append([_sq(G, res.z, xn)])
            if i < args.noise_gd_codes:
                t = time.perf_counter()
                zg = gd_invert(layers, xn, rng)
                errs.setdefault("gd", {}).setdefault(level, []).append(
                    (rel(zg, z), np.nan, time.perf_counter() - t, True, True))
                losses[level][-1].append(_sq(G, zg, xn))
    for key, per in errs.items():
        rows = [np.array(per[lv], dtype=float) for lv in levels]
        out[key] = {"median_rel_error": [float(np.median(r[:, 0])) for r in rows],
                    "p90_rel_error": [float(np.quantile(r[:, 0], 0.9)) for r in rows],
                    "median_rel_error_bound": [float(np.median(r[:, 1])) for r in rows],
                    "median_seconds": [float(np.median(r[:, 2])) for r in rows],
                    "success": [int(r[:, 3].sum()) for r in rows],
                    "bound_held": [int(r[:, 4].sum()) for r in rows]}
        log(dims, key, ["%.2e" % v for v in out[key]["median_rel_error"]])
    ng = args.noise_gd_codes  # the same codes for both: GD runs on the first ng
    out["l2_on_gd_codes"] = [float(np.median(np.array(errs["l2"][lv])[:ng, 0])) for lv in levels]
    out["gd_on_gd_codes"] = out["gd"]["median_rel_error"]
    out["paired_l2_gd"] = _paired(errs, losses, levels, ng)
    out["loadavg_at_end"] = _uptime()
    out["checks"] = {
        "l2_median_at_most_gd_at_every_level_same_codes": all(
            a <= b for a, b in zip(out["l2_on_gd_codes"], out["gd_on_gd_codes"])),
        "l2_median_within_1pct_of_gd_or_better_same_codes": all(
            a <= 1.01 * b for a, b in zip(out["l2_on_gd_codes"], out["gd_on_gd_codes"])),
        "every_method_within_10x_noise_at_every_level": all(
            v <= 10 * lv for k in ("linf", "l1", "l2", "l2_estimated")
            for v, lv in zip(out[k]["median_rel_error"], levels)),
        "error_bound_held_every_time": all(
            sum(out[k]["bound_held"]) == len(levels) * args.noise_codes
            for k in ("linf", "l1", "l2"))}
    return out


def _sq(G, z, x):
    return float(((G.forward(z) - x) ** 2).sum())


def _paired(errs, losses, levels, ng):
    """l2 against GD code by code (the first ``ng`` codes of each level, which both ran):
    which has the lower z error, which the lower loss ``||G(z) - x||^2``, and whether they
    reached the same point (relative loss difference below 1e-9)."""
    out = {"codes": ng, "l2_error_lower": [], "gd_error_lower": [], "l2_loss_lower": [],
           "gd_loss_lower": [], "same_loss_1e-9": [], "median_error_ratio_l2_over_gd": []}
    for lv in levels:
        e2 = np.array(errs["l2"][lv])[:ng, 0]
        eg = np.array(errs["gd"][lv])[:, 0]
        L = np.array(losses[lv][:ng], dtype=float)
        same = np.abs(L[:, 0] - L[:, 1]) <= 1e-9 * L[:, 1]
        out["l2_error_lower"].append(int((e2 < eg).sum()))
        out["gd_error_lower"].append(int((eg < e2).sum()))
        out["l2_loss_lower"].append(int(((L[:, 0] < L[:, 1]) & ~same).sum()))
        out["gd_loss_lower"].append(int(((L[:, 1] < L[:, 0]) & ~same).sum()))
        out["same_loss_1e-9"].append(int(same.sum()))
        out["median_error_ratio_l2_over_gd"].append(float(np.median(e2 / eg)))
    return out


def _cpu():
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _uptime():
    try:
        with open("/proc/loadavg") as fh:
            return fh.read().strip()
    except OSError:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())


def bench_batch(args, rng):
    """A batch of codes on 20-100-500: 1 vs 2 processes, interleaved; BLAS limiter on/off.

    The speed-up is the ratio of median wall times.  On a shared machine (Linux autogroup
    scheduling gives one session one share of the CPU, however many processes it runs) it
    is bounded by the load, so the CPU-time ideal is reported too: the 1-process run's CPU
    seconds over the busiest process's CPU seconds in the 2-process run -- the speed-up
    with one idle core per process.
    """
    import contextlib

    from dsssolver.invert import batch as B

    dims = (20, 100, 500)
    layers = gauss_net(dims, rng)
    G = as_network(layers)
    X = G.forward(rng.normal(size=(args.batch, dims[0])))
    inv = Inverter(layers)
    inv.invert(X[:3])
    runs = {"workers_1": [], "workers_2": []}
    cpu = {"workers_1": [], "workers_2": []}
    ideal, loads = [], []
    for _ in range(args.batch_rounds):  # interleaved, so both see the same machine load
        loads.append(_uptime())
        for key, w in (("workers_1", 1), ("workers_2", 2)):
            t = time.perf_counter()
            res = inv.invert(X, workers=w)
            runs[key].append(time.perf_counter() - t)
            cpu[key].append(res.parallel["cpu_seconds"])
            assert res.success.all()
        ideal.append(sum(cpu["workers_1"][-1]) / max(cpu["workers_2"][-1]))
    limiter = B.single_blas_thread
    small = X[: args.batch_blas]
    blas = {}
    for key, ctx in (("blas_one_thread", limiter), ("blas_default_threads",
                                                     contextlib.nullcontext)):
        B.single_blas_thread = ctx
        t = time.perf_counter()
        inv.invert(small)
        blas[key] = (time.perf_counter() - t) / len(small)
    B.single_blas_thread = limiter
    speedup = float(np.median(runs["workers_1"]) / np.median(runs["workers_2"]))
    out = {"net": "20-100-500", "codes": args.batch, "rounds": args.batch_rounds,
           "speedup_2_over_1": speedup,
           "speedup_2_over_1_cpu_ideal": float(np.median(ideal)),
           "target_speedup": 1.7, "meets_target": speedup >= 1.7,
           "loadavg_per_round": loads, "loadavg_at_end": _uptime(),
           "seconds": runs, "median_seconds": {k: float(np.median(v)) for k, v in runs.items()},
           "cpu_seconds_per_process": cpu, "cpu_ideal_per_round": ideal,
           "seconds_per_code_blas": blas, "blas_codes": len(small),
           "blas_slowdown_default_over_one": blas["blas_default_threads"] / blas["blas_one_thread"],
           "note": "speedup_2_over_1: median wall seconds with 1 process over 2 (interleaved "
                   "rounds); speedup_2_over_1_cpu_ideal: CPU seconds of the 1-process run over "
                   "the busiest process's in the 2-process run (the speed-up with one idle "
                   "core per process).  On a shared machine Linux autogroup scheduling gives "
                   "one session one CPU share however many processes it runs, so the wall "
                   "speed-up is only meaningful at low load (see loadavg_per_round)."}
    log(f"batch: w1 {out['median_seconds']['workers_1']:.2f} s, w2 "
          f"{out['median_seconds']['workers_2']:.2f} s, speedup {speedup:.2f} (CPU-time ideal "
          f"{out['speedup_2_over_1_cpu_ideal']:.2f}); BLAS default/one "
          f"{out['blas_slowdown_default_over_one']:.1f}x; load {loads} .. {_uptime()}")
    return out


def bench_dcgan(args, R):
    """Invert DCGAN-style generators (64x64x3) image by image: dss (exact, l2) against GD.

    torch runs GD with one thread, as dss runs with one (BLAS and HiGHS).  The section is
    saved after every image, so a run stopped early keeps the images done.
    """
    import torch

    from _generators import dcgan, gd_torch

    torch.set_num_threads(1)
    out = R.doc["dcgan"] = {
        "architecture": "64 -> 16x4x4 -> 16x8x8 -> 16x16x16 -> 10x32x32 -> 3x64x64 (Linear, "
                        "4 ConvTranspose2d k4 s2 p1, ReLU, last linear)",
        "images": args.dcgan_images, "torch_threads": 1,
        "gd": f"Adam lr 0.01, {args.gd_iters} iterations, 1 start (torch, CPU, 1 thread)",
        "noise": "x + sigma N(0, I), sigma = 1e-3 ||x|| / sqrt(m); dss l2 given noise_std"}
    for name, inj in (("injective", True), ("regular", False)):
        net = dcgan(injective=inj, seed=1)
        G = as_network(net)
        rows = []
        out[name] = {"layers": [list(layer.shape) for layer in G.layers], "per_image": rows}
        gen = torch.Generator().manual_seed(2)
        for i in range(args.dcgan_images):
            z = torch.randn(64, dtype=torch.float64, generator=gen)
            x = net(z).detach().numpy()
            sigma = 1e-3 * np.linalg.norm(x) / np.sqrt(len(x))
            xn = x + sigma * np.random.default_rng(i).normal(size=len(x))
            row = {}
            for key, xx, kw in (("dss_exact", x, {}),
                                ("dss_l2_noise_1e-3", xn, {"method": "l2", "noise_std": sigma})):
                t = time.perf_counter()
                res = dss.invert(G, xx, **kw)
                row[key] = {"seconds": time.perf_counter() - t, "status": res.status,
                            "rel_error": rel(res.z, z.numpy()), "residual": res.residual}
            for key, xx in (("gd_exact", x), ("gd_noise_1e-3", xn)):
                t = time.perf_counter()
                zg = gd_torch(net, xx, 64, iters=args.gd_iters, seed=i)
                row[key] = {"seconds": time.perf_counter() - t, "rel_error": rel(zg, z.numpy())}
            row["loadavg"] = _uptime()
            rows.append(row)
            keys = [k for k in row if k != "loadavg"]
            out[name]["median_seconds"] = {k: float(np.median([r[k]["seconds"] for r in rows]))
                                           for k in keys}
            out[name]["median_rel_error"] = {
                k: float(np.median([r[k]["rel_error"] for r in rows])) for k in keys}
            out[name]["images_done"] = len(rows)
            R.save()
            log(name, i, {k: (round(row[k]["seconds"], 1), "%.1e" % row[k]["rel_error"])
                            for k in keys}, row["loadavg"])
    return out


def plots(R, gd_times):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    doc = R.doc
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
    fig.savefig(R.figure("invert_noise_uniform"), dpi=120)
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
    fig.savefig(R.figure("invert_times"), dpi=120)
    plt.close(fig)


def plot_noise(R):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    doc = R.doc
    nets = [k for k in ("noise_20_100_500", "noise_20_60_784") if k in doc]
    fig, axes = plt.subplots(1, len(nets), figsize=(6 * len(nets), 4.2), squeeze=False)
    for ax, key in zip(axes[0], nets):
        n = doc[key]
        for m, lab, col in (("linf", "l_inf LP", "C0"), ("l1", "l_1 LP", "C1"),
                            ("l2", "l_2 (l_1 LPs + Gauss-Newton)", "C3"),
                            ("l2_estimated", "l_2, noise estimated", "C4"),
                            ("gd", "GD (Adam, 10 restarts)", "C2")):
            ax.loglog(n["levels"], n[m]["median_rel_error"], "o-", color=col, label=lab)
            if m in ("l2",):
                ax.loglog(n["levels"], n[m]["median_rel_error_bound"], "--", color=col,
                          alpha=0.6, label="l_2: error bound (median)")
        ax.loglog(n["levels"], n["levels"], ":", color="k", alpha=0.5, label="error = noise")
        ax.set_xlabel("relative noise level")
        ax.set_ylabel("||z_hat - z|| / ||z||  (median)")
        ax.set_title(n["net"].split(" ")[0])
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(R.figure("invert_noise"), dpi=120)
    plt.close(fig)


class Results:
    """The run's JSON, rewritten after every section (and every DCGAN image), so that a
    slow or failing later section never costs the earlier ones."""

    def __init__(self, path, doc):
        self.path, self.doc = path, doc
        self.folder = os.path.dirname(os.path.abspath(path))
        stem = os.path.basename(path)
        self.suffix = ".quick" if stem.endswith(".quick.json") else ""
        os.makedirs(self.folder, exist_ok=True)

    def figure(self, name):
        """Where figure ``name`` goes: beside the JSON (``.quick`` added for quick runs)."""
        return os.path.join(self.folder, name + self.suffix + ".png")

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(self.doc, fh, indent=1)
        os.replace(tmp, self.path)  # a reader never sees half a file

    def section(self, name, fn):
        """Run ``fn()`` (which returns the section's dict); record it or its error; save."""
        t = time.time()
        self.doc.setdefault("sections_done", [])
        try:
            out = fn()
        except Exception:  # recorded, and the next sections still run
            import traceback

            self.doc.setdefault("errors", {})[name] = traceback.format_exc()
            sys.stderr.write(f"section {name} failed:\n{traceback.format_exc()}")
            out = None
        if out is not None:
            self.doc[name] = out
            self.doc["sections_done"].append(name)
        self.doc.setdefault("section_seconds", {})[name] = time.time() - t
        self.save()
        return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="few codes, for a smoke run")
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("--out", help="the JSON to write (figures go beside it); default "
                    "results/invert_bench.json, or results/invert_bench.quick.json with "
                    "--quick, so a quick run never overwrites the full run's results")
    ap.add_argument("--noise-codes", type=int, default=None,
                    help="codes per noise level (default 30; 3 with --quick)")
    ap.add_argument("--noise-gd-codes", type=int, default=None,
                    help="of those, how many GD also runs (default: all of them)")
    ap.add_argument("--fresh", action="store_true",
                    help="start a new JSON instead of merging into the existing one")
    ap.add_argument("--sections", default="noise,batch,dcgan",
                    help="comma-separated: noise, batch, dcgan, exact (the issue-3 exact/GD "
                         "and 20-42-88 runs)")
    args = ap.parse_args(argv)
    q = args.quick
    args.codes, args.gd_codes = (20, 3) if q else (200, 20)
    args.noise_codes = args.noise_codes or (3 if q else 30)
    args.noise_gd_codes = min(args.noise_gd_codes or args.noise_codes, args.noise_codes)
    args.batch, args.batch_rounds, args.batch_blas = (100, 3, 10) if q else (1000, 3, 100)
    args.dcgan_images, args.gd_iters = (1, 50) if q else (3, 1000)
    sections = args.sections.split(",")
    unknown = set(sections) - {"noise", "batch", "dcgan", "exact"}
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)}")
    rng = np.random.default_rng(args.seed)
    path = args.out or os.path.join(OUT, "invert_bench.quick.json" if q else "invert_bench.json")
    t0 = time.time()
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(),
               "numpy": np.__version__, "loadavg_at_start": _uptime(),
               "blas_threads_env": os.environ.get("OPENBLAS_NUM_THREADS"),
               "blas": "held at one thread by the library (threadpoolctl)", "highs_threads": 1}
    R = Results(path, merged(path, {"issue": 10, "seed": args.seed, "quick": q,
                                    "sections": sections, "complete": False,
                                    "machine": machine}, fresh=args.fresh))
    R.doc["runs"].append({"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                          "sections": sections, "seed": args.seed, "machine": machine})
    R.save()
    for name in sections:
        if name == "noise":
            for dims in ((20, 100, 500), (20, 60, 784)):
                R.section("noise_" + "_".join(map(str, dims)),
                          lambda d=dims: bench_noise_methods(args, rng, d))
            _try_plot(R, plot_noise)
        elif name == "batch":
            R.section("batch", lambda: bench_batch(args, rng))
        elif name == "dcgan":
            R.section("dcgan", lambda: bench_dcgan(args, R))
        elif name == "exact":
            exact_sections(R, args, rng)
    R.doc["wall_seconds"] = R.doc["runs"][-1]["wall_seconds"] = time.time() - t0
    R.doc["complete"] = not R.doc.get("errors")
    R.save()
    log(f"wrote {path} in {R.doc['wall_seconds']:.0f} s")
    return 0 if R.doc["complete"] else 1


def merged(path, doc, *, fresh=False):
    """The document a run writes: ``doc``, plus what ``path`` already holds (unless
    ``fresh``): its sections and their errors are kept until this run makes them again,
    and ``runs`` keeps every run's sections, seed and machine."""
    old = {}
    if not fresh and os.path.exists(path):
        with open(path) as fh:
            old = json.load(fh)
    out = dict(old, **doc)
    first = {k: old[k] for k in ("seed", "sections", "machine") if k in old}
    out["runs"] = old.get("runs") or ([dict(first, note="the run that first wrote this file")]
                                      if first else [])
    redo = {"noise": ("noise_20_100_500", "noise_20_60_784"), "exact": (
        "relu_20_100_500", "relu_20_42_88", "noise")}
    fresh_names = {n for s in doc["sections"] for n in redo.get(s, (s,))}
    out["sections_done"] = [s for s in old.get("sections_done", []) if s not in fresh_names]
    errors = {k: v for k, v in old.get("errors", {}).items() if k not in fresh_names}
    out.pop("errors", None)
    if errors:
        out["errors"] = errors
    return out


def exact_sections(R, args, rng):
    """The issue-3 sections: exact inversion against GD, 20-42-88, uniform noise."""
    kept = {}

    def exact():
        out, layers, G, kept["gd_times"] = bench_500(args, rng)
        kept["net"] = (layers, G)
        return out
    R.section("relu_20_100_500", exact)
    R.section("relu_20_42_88", lambda: bench_88(args, rng))
    if "net" in kept:
        R.section("noise", lambda: bench_noise(args, rng, *kept["net"]))
        _try_plot(R, lambda R: plots(R, kept["gd_times"]))


def _try_plot(R, fn):
    try:
        fn(R)
    except Exception as exc:  # a missing matplotlib must not lose the numbers
        R.doc.setdefault("errors", {})["plot"] = repr(exc)
        R.save()


if __name__ == "__main__":
    sys.exit(main())
