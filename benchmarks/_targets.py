"""The larger-layer targets of ``certify_bench.py --targets``: the current strategies vs the previous.

Two methods, interleaved instance by instance (the order alternates), each call in a forked
child with a hard wall-clock limit:

* ``dss``          -- ``dss.certify(W, b, time_limit=T)`` with today's defaults: sub-layers for
                      m >= 24n, the bulk elastic dive (a quarter of the corank per LP), workers on
                      every local core;
* ``dss_baseline`` -- the previous strategy: ``sublayers=False``, ``workers=1``, and the dive of
                      Chinneck's heuristic adding one row per LP (``_Run.dive_grow = 0``).  The
                      exact-algebra speed-ups (mod-p ranks, one null vector, ...) are in both.

Instances (seeds 0, 1, 2; ``rng = numpy.random.default_rng([tag, m, n, seed])``):
Gaussian 2000x8 and 2000x10 (b = 0), Gaussian c = 4 with n = 200 (not injective), Gaussian
70x10 with b ~ N(0, 1), integer {-1, 0, 1} 70x10 (b = 0), Gaussian c = 7, n = 10.
Every run records the 1-minute load average of the machine at its start (other jobs share it).
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import statistics
import time

import numpy as np

TARGETS = [
    # name, m, n, kind, target seconds (issue 9), time limit[, methods]
    ("gauss 2000x8", 2000, 8, "gauss", 1.0, 60.0),
    ("gauss 2000x10", 2000, 10, "gauss", 20.0, 60.0),
    ("gauss c=4 n=200", 800, 200, "gauss", 10.0, 120.0),
    ("biased 70x10", 70, 10, "biased", 60.0, 60.0),
    ("integer 70x10", 70, 10, "integer", 60.0, 60.0),
    ("gauss c=7 n=10", 70, 10, "gauss", None, 60.0),
    # the baseline needs minutes to hours here (docs/scaling.md has the previous code's times)
    ("gauss c=7 n=12", 84, 12, "gauss", 60.0, 300.0, ("dss",)),
    ("gauss c=10 n=12", 120, 12, "gauss", 60.0, 300.0, ("dss",)),
    ("gauss c=7 n=13", 91, 13, "gauss", 600.0, 900.0, ("dss",)),
    ("gauss c=10 n=14", 140, 14, "gauss", 600.0, 900.0, ("dss",)),
]
METHODS = ["dss", "dss_baseline"]


def instance(kind, m, n, seed):
    rng = np.random.default_rng([{"gauss": 0, "biased": 1, "integer": 2}[kind], m, n, seed])
    if kind == "integer":
        return rng.integers(-1, 2, size=(m, n)), np.zeros(m, dtype=np.int64)
    W = rng.standard_normal((m, n))
    b = rng.standard_normal(m) if kind == "biased" else np.zeros(m)
    return W, b


def _body(meth, W, b, limit):
    import dsssolver as dss
    from dsssolver.certify import search

    kw = {}
    if meth == "dss_baseline":
        search._Run.dive_grow = 0.0
        kw = {"sublayers": False, "workers": 1}
    t = time.perf_counter()
    r = dss.certify(W, b, time_limit=limit, **kw)
    sec = time.perf_counter() - t
    keys = ("nodes", "lps", "dive_steps", "workers", "sublayer_rows", "sublayer_rounds",
            "check_seconds", "lp_seconds", "seconds", "reason", "trusted_packings", "trust_reruns")
    return {"status": r.status, "seconds": sec, "checked": bool(r.checked),
            "stats": {k: r.stats.get(k) for k in keys if k in r.stats}}


def _child(conn, meth, W, b, limit):
    try:
        out = _body(meth, W, b, limit)
    except Exception as e:  # noqa: BLE001 -- recorded, never dropped
        out = {"status": f"error: {type(e).__name__}: {e}"[:300], "seconds": None}
    conn.send(out)
    conn.close()


def run_one(meth, W, b, limit, hard):
    ctx = mp.get_context("fork")
    a, c = ctx.Pipe(duplex=False)
    load = _loadavg()
    p = ctx.Process(target=_child, args=(c, meth, W, b, limit))
    t = time.perf_counter()
    p.start()
    c.close()
    out = a.recv() if a.poll(hard) else None
    wall = time.perf_counter() - t
    if out is None:
        p.kill()  # our own child, by its pid
        out = {"status": "timeout", "seconds": wall}
    p.join()
    out.update(wall=wall, loadavg_1min=load)
    return out


def _loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return None


def run_targets(out_path, seeds=(0, 1, 2), names=None, log=print, machine=None):
    kept = []  # runs of the targets not run now, kept from an earlier file (one JSON for all)
    if names is not None and os.path.exists(out_path):
        with open(out_path) as f:
            kept = [r for r in json.load(f).get("runs", []) if r["target"] not in names]
    done = {r["target"] for r in kept}
    doc = {"benchmark": "certify_bench --targets", "methods": METHODS,
           "targets": [dict(zip(("name", "m", "n", "kind", "target_seconds", "time_limit"), t[:6]))
                       for t in TARGETS if names is None or t[0] in names or t[0] in done],
           "machine": machine or {}, "runs": kept}
    k = 0
    for name, m, n, kind, _target, limit, *meths in TARGETS:
        if names is not None and name not in names:
            continue
        methods = list(meths[0]) if meths else METHODS
        for s in seeds:
            W, b = instance(kind, m, n, s)
            order = methods if k % 2 == 0 else methods[::-1]
            k += 1
            rec = {"target": name, "seed": s, "results": {}}
            for meth in order:
                r = run_one(meth, W, b, limit, limit + 60)
                rec["results"][meth] = r
                log(f"{name} seed {s} {meth}: {r['status']} {r['wall']:.2f} s "
                    f"(load {r['loadavg_1min']}) {r.get('stats', {})}")
            doc["runs"].append(rec)
            doc["summary"] = summarize(doc)
            _save(doc, out_path)
    plot(doc, os.path.splitext(out_path)[0] + ".png")
    return doc


def summarize(doc):
    out = {}
    for t in doc["targets"]:
        recs = [r for r in doc["runs"] if r["target"] == t["name"]]
        cell = {}
        for meth in METHODS:
            rs = [r["results"][meth] for r in recs if meth in r["results"]]
            secs = [r["wall"] for r in rs]
            decided = [r for r in rs if r["status"] in ("injective", "not_injective")]
            cell[meth] = {
                "statuses": [r["status"] for r in rs],
                "median_wall": statistics.median(secs) if secs else None,
                "min_wall": min(secs) if secs else None, "max_wall": max(secs) if secs else None,
                "median_is_lower_bound": len(decided) < len(rs),
                "all_checked": all(r.get("checked") for r in decided),
                "loadavg_1min": [r["loadavg_1min"] for r in rs],
            }
        d = cell["dss"]
        cell["target_seconds"] = t["target_seconds"]
        cell["target_met"] = (None if t["target_seconds"] is None or d["median_wall"] is None else
                              bool(not d["median_is_lower_bound"]
                                   and d["median_wall"] < t["target_seconds"]))
        out[t["name"]] = cell
    return out


def _save(doc, path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, default=str)
    os.replace(tmp, path)


def plot(doc, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(doc["summary"])
    fig, ax = plt.subplots(figsize=(10, 5))
    for j, meth in enumerate(METHODS):
        xs, med, lo, hi, hollow = [], [], [], [], []
        for i, name in enumerate(names):
            c = doc["summary"][name][meth]
            if c["median_wall"] is None:
                continue
            xs.append(i + (j - 0.5) * 0.3)
            med.append(c["median_wall"])
            lo.append(c["median_wall"] - c["min_wall"])
            hi.append(c["max_wall"] - c["median_wall"])
            hollow.append(c["median_is_lower_bound"])
        ax.bar(xs, med, width=0.3, yerr=[lo, hi], capsize=3, color=f"C{j}", label=meth,
               hatch=None)
        for x, y, h in zip(xs, med, hollow):
            if h:
                ax.text(x, y, ">=", ha="center", va="bottom", fontsize=8)
    for i, name in enumerate(names):
        t = doc["summary"][name]["target_seconds"]
        if t:
            ax.plot([i - 0.45, i + 0.45], [t, t], "k--", lw=1)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=15, fontsize=8)
    ax.set_ylabel("wall seconds (median of seeds, min/max bars)")
    loads = [r.get("loadavg_1min") for run in doc["runs"] for r in run["results"].values()]
    loads = [x for x in loads if x is not None]
    where = f"2-core machine, 1-min load {min(loads):.1f}-{max(loads):.1f}" if loads else "2-core machine"
    ax.set_title("dss.certify on larger layers: current strategies vs the previous one\n"
                 f"dashed: issue 9 targets; '>=': some seeds undecided at the limit; {where}")
    ax.legend()
    ax.grid(True, which="both", axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
