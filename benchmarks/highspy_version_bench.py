"""Per-``run()`` cost of a hot-started small LP loop, highspy 1.15.1 vs 1.16.0.

The LP is the robust strict-system form of MATH.md section 4 for a 56x8
Gaussian layer (with Gaussian biases):

    max t  s.t.  w_i.x + b_i s + t <= 0 (rows switched on),  -s + t <= 0,
                 -1 <= x, s <= 1,  t <= 1,

built once; each iteration flips a few rows on/off with ``changeRowsBounds``
(an "off" row gets upper bound +inf) and calls ``run()`` (hot start from the
previous basis).  Options: ``output_flag=False``, ``threads=1``,
``presolve="off"``.  Only ``run()`` is timed (``perf_counter_ns``); the
bound change is timed separately, and a one-variable LP loop gives the fixed
per-``run()`` cost.

Two modes:

``python highspy_version_bench.py --worker``
    time the loop in *this* interpreter and print one JSON object.
``python highspy_version_bench.py --pythons /tmp/h115/bin/python /tmp/h116/bin/python``
    run the worker in each interpreter, alternating for ``--rounds`` rounds
    (back to back in one session), also record what a bare ``highspy.Highs()``
    prints on stdout/stderr, and write ``results/highspy_version.json``.

Setup used (throwaway venvs, never project dependencies)::

    python -m venv /tmp/h115 && /tmp/h115/bin/pip install numpy highspy==1.15.1
    python -m venv /tmp/h116 && /tmp/h116/bin/pip install numpy highspy==1.16.0
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

M, N = 56, 8


def worker(iters, warmup, seed, flips):
    import numpy as np
    import highspy

    rng = np.random.default_rng(seed)
    W = rng.standard_normal((M, N))
    b = rng.standard_normal(M)
    inf = highspy.kHighsInf
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("presolve", "off")
    lo = np.full(N + 2, -1.0)
    lo[N + 1] = -inf
    h.addVars(N + 2, lo, np.ones(N + 2))
    h.changeColCost(N + 1, 1.0)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    A = np.vstack([np.hstack([W, b[:, None], np.ones((M, 1))]),
                   np.concatenate([np.zeros(N), [-1.0, 1.0]])[None, :]])
    starts = np.arange(0, A.size, A.shape[1], dtype=np.int32)
    index = np.tile(np.arange(A.shape[1], dtype=np.int32), A.shape[0])
    h.addRows(M + 1, np.full(M + 1, -inf), np.zeros(M + 1), A.size, starts, index, A.ravel())
    on = np.ones(M, dtype=bool)
    run_ns, bounds_ns, statuses, iters_total = [], [], {}, 0
    for k in range(warmup + iters):
        idx = rng.choice(M, size=flips, replace=False)
        on[idx] = ~on[idx]
        if on.sum() < N + 1:  # keep the LP interesting
            on[:] = True
        t0 = time.perf_counter_ns()
        h.changeRowsBounds(len(idx), idx.astype(np.int32), np.full(len(idx), -inf),
                           np.where(on[idx], 0.0, inf))
        t1 = time.perf_counter_ns()
        h.run()
        t2 = time.perf_counter_ns()
        if k >= warmup:
            bounds_ns.append(t1 - t0)
            run_ns.append(t2 - t1)
            st = h.modelStatusToString(h.getModelStatus())
            statuses[st] = statuses.get(st, 0) + 1
            iters_total += h.getInfo().simplex_iteration_count
    return {
        "trivial_lp_median_run_us": _trivial_loop(highspy, np, iters, warmup) / 1e3,
        "highspy": getattr(highspy, "__version__", None) or _dist_version("highspy"),
        "highs_version": h.version(),
        "python": platform.python_version(),
        "iters": iters,
        "median_run_us": statistics.median(run_ns) / 1e3,
        "p10_run_us": _quantile(run_ns, 0.1) / 1e3,
        "p90_run_us": _quantile(run_ns, 0.9) / 1e3,
        "mean_run_us": statistics.fmean(run_ns) / 1e3,
        "median_bounds_us": statistics.median(bounds_ns) / 1e3,
        "mean_simplex_iterations": iters_total / iters,
        "statuses": statuses,
    }


def _trivial_loop(highspy, np, iters, warmup):
    """Median ns of ``run()`` on a one-variable LP whose bound flips: the fixed per-call cost."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("presolve", "off")
    h.addVars(1, np.array([0.0]), np.array([1.0]))
    h.changeColCost(0, 1.0)
    ts = []
    for k in range(warmup + iters):
        h.changeColBounds(0, 0.0, 1.0 + (k % 2))
        t0 = time.perf_counter_ns()
        h.run()
        ts.append(time.perf_counter_ns() - t0)
    return statistics.median(ts[warmup:])


def _quantile(xs, q):
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def _dist_version(name):
    from importlib.metadata import version

    return version(name)


BANNER_PROBE = "import highspy; h = highspy.Highs()"


def probe_banner(python):
    """What a bare ``highspy.Highs()`` prints (before any option can be set)."""
    p = subprocess.run([python, "-c", BANNER_PROBE], capture_output=True, text=True, timeout=120)
    return {"stdout": p.stdout, "stderr": p.stderr, "returncode": p.returncode}


def driver(pythons, rounds, iters, warmup, seed, flips, out):
    per = {py: [] for py in pythons}
    for r in range(rounds):
        order = pythons if r % 2 == 0 else list(reversed(pythons))
        for py in order:
            cmd = [py, os.path.abspath(__file__), "--worker", "--iters", str(iters),
                   "--warmup", str(warmup), "--seed", str(seed), "--flips", str(flips)]
            p = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600)
            res = json.loads(p.stdout.strip().splitlines()[-1])
            per[py].append(res)
            print(f"round {r} {res['highspy']:>8}: median run {res['median_run_us']:.1f} us",
                  file=sys.stderr)
    summary = {}
    for py, runs in per.items():
        v = runs[0]["highspy"]
        summary[v] = {
            "python_executable": py,
            "highs_version": runs[0]["highs_version"],
            "median_of_round_medians_us": statistics.median(r["median_run_us"] for r in runs),
            "round_medians_us": [round(r["median_run_us"], 2) for r in runs],
            "median_bounds_change_us": statistics.median(r["median_bounds_us"] for r in runs),
            "trivial_lp_median_run_us": statistics.median(r["trivial_lp_median_run_us"]
                                                          for r in runs),
            "p10_p90_run_us_first_round": [runs[0]["p10_run_us"], runs[0]["p90_run_us"]],
            "mean_simplex_iterations": runs[0]["mean_simplex_iterations"],
            "statuses": runs[0]["statuses"],
            "first_Highs_output": probe_banner(py),
        }
    result = {
        "what": "per-run() cost of a hot-started robust LP loop (56x8 Gaussian, rows flipped "
                "with changeRowsBounds); output_flag False, threads 1, presolve off",
        "m": M, "n": N, "rounds": rounds, "iters_per_round": iters, "warmup": warmup,
        "flips_per_iter": flips, "seed": seed,
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": summary,
    }
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(json.dumps({v: round(s["median_of_round_medians_us"], 2) for v, s in summary.items()}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--pythons", nargs="+", default=["/tmp/h115/bin/python", "/tmp/h116/bin/python"])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--iters", type=int, default=3000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20261130)
    ap.add_argument("--flips", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "results", "highspy_version.json"))
    a = ap.parse_args(argv)
    if a.worker:
        print(json.dumps(worker(a.iters, a.warmup, a.seed, a.flips)))
    else:
        driver(a.pythons, a.rounds, a.iters, a.warmup, a.seed, a.flips, a.out)


if __name__ == "__main__":
    main()
