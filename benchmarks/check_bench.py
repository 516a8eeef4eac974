"""Time the independent checker (``dsssolver.check``) on the issue-6 targets.

* a 125 x 50 ``[B; -DB; M]`` layer built exactly (integers), its proof from ``certify``;
* the bundled 56 x 8 Gaussian layer (``dsssolver/examples/gaussian_56x8.npz``), its proof checked
  with and without the search's hints.

Each check runs ``--repeats`` times, interleaved, and the medians of wall-clock and CPU time
(``time.process_time``) are written to ``benchmarks/results/check_bench.json`` with a bar plot.
CPU time is the fairer number on a shared machine.  The command line is timed too: ``dss check``
(as ``python -m dsssolver check``, start-up and file reading included) on the same two proofs,
the Gaussian one with ``--no-hints``; its wall and CPU time (of the child process) are under
``"cli"``.

    python benchmarks/check_bench.py [--repeats 5]
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import _machine  # noqa: E402

import dsssolver as dss  # noqa: E402


def b_negdb_m(n=50, extra=25, seed=0):
    """``[B; -DB; M]``: B invertible integer, D positive integer diagonal, M arbitrary integers."""
    rng = np.random.default_rng(seed)
    while True:
        B = rng.integers(-3, 4, size=(n, n))
        if abs(np.linalg.det(B)) > 0.5:
            break
    D = rng.integers(1, 4, size=(n, 1))
    M = rng.integers(-2, 3, size=(extra, n))
    W = np.vstack([B, -D * B, M]).astype(np.int64)
    return W[rng.permutation(len(W))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    hashes = _machine.preimport_and_hash()
    W1 = b_negdb_m()
    r1 = dss.certify(W1)
    d = np.load(os.path.join(HERE, "..", "dsssolver", "examples", "gaussian_56x8.npz"))
    W2 = d["W"]
    b2 = d["b"] if "b" in d.files else None
    r2 = dss.certify(W2, b2)
    assert r1.status == r2.status == "injective"
    cases = {
        "bdbm_125x50 hints": (r1.to_json(), W1, None, True),
        "bdbm_125x50 no hints": (r1.to_json(), W1, None, False),
        "gaussian_56x8 hints": (r2.to_json(), W2, b2, True),
        "gaussian_56x8 no hints": (r2.to_json(), W2, b2, False),
    }
    # the same [B; -DB; M] proof through the general search over flats, not the pair fast path
    cases["bdbm_125x50 general path"] = (r1.to_json(), W1, None, False)
    check_module = importlib.import_module("dsssolver.verify.check")
    pair_path = check_module._pair_shape
    runs = {k: {"wall": [], "cpu": [], "nodes": None} for k in cases}
    for _ in range(args.repeats):
        for name, (doc, W, b, hints) in cases.items():
            check_module._pair_shape = (lambda *a: None) if "general" in name else pair_path
            w, c = time.perf_counter(), time.process_time()
            out = dss.check(json.loads(json.dumps(doc)), W, b, hints=hints)
            runs[name]["wall"].append(time.perf_counter() - w)
            runs[name]["cpu"].append(time.process_time() - c)
            runs[name]["nodes"] = out.stats.get("nodes")
            assert out, (name, out.message)
    check_module._pair_shape = pair_path
    summary = _summary(runs)
    cli = _summary(_time_cli({"dss check bdbm_125x50": (r1, W1, None, []),
                              "dss check gaussian_56x8 --no-hints": (r2, W2, b2, ["--no-hints"])},
                             args.repeats))
    for k, v in {**summary, **cli}.items():
        print(f"{k:34s} wall {v['median_wall_s']:.3f} s  cpu {v['median_cpu_s']:.3f} s  "
              f"nodes {v['nodes']}")
    out_dir = os.path.join(HERE, "results")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "check_bench.json"), "w") as fh:
        json.dump({"machine": _machine.machine_facts(hashes, ("python-flint",)),
                   "repeats": args.repeats, "results": summary, "cli": cli}, fh, indent=1)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    names = list(summary)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(x - 0.2, [summary[k]["median_wall_s"] for k in names], 0.4, label="wall (median)")
    ax.bar(x + 0.2, [summary[k]["median_cpu_s"] for k in names], 0.4, label="CPU (median)")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.axhline(2.0, color="grey", lw=0.8, ls=":")
    ax.set_xticks(x, names, rotation=15, fontsize=8)
    ax.set_ylabel("seconds")
    ax.set_title("dss.check: independent exact checker (targets 1 s and 2 s)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "check_bench.png"), dpi=120)


def _summary(runs):
    return {k: {"median_wall_s": statistics.median(v["wall"]),
                "median_cpu_s": statistics.median(v["cpu"]), "nodes": v["nodes"],
                "wall_s": v["wall"], "cpu_s": v["cpu"]} for k, v in runs.items()}


def _time_cli(cases, repeats):
    """Wall and child CPU seconds of ``python -m dsssolver check`` on each case, interleaved."""
    runs = {k: {"wall": [], "cpu": [], "nodes": None} for k in cases}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for k, (res, W, b, extra) in cases.items():
            layer, ev = os.path.join(tmp, f"{len(files)}.npz"), os.path.join(tmp, f"{len(files)}.json")
            np.savez(layer, **({"W": W} if b is None else {"W": W, "b": b}))
            with open(ev, "w") as fh:
                json.dump(res.to_json(), fh)
            files[k] = [sys.executable, "-m", "dsssolver", "check", layer, ev, *extra]
        for _ in range(repeats):
            for k, cmd in files.items():
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                w = time.perf_counter()
                r = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.dirname(HERE))
                runs[k]["wall"].append(time.perf_counter() - w)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                runs[k]["cpu"].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
                assert r.returncode == 0 and r.stdout.startswith("valid"), (k, r.stdout, r.stderr)
    return runs


if __name__ == "__main__":
    main()
