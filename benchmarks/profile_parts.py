"""Where certify's time goes, by component, for one or more checkouts of dsssolver (before/after).

Each checkout certifies the same Gaussian layer in a fresh process under the sampling profiler
``py-spy`` (a tool of this machine, not a dependency: without it the script says so and stops).
Every sample is attributed to the innermost component on its stack:

* ``check: transversal tests`` / ``check: other``   -- the independent exact checker (verify/);
* ``search: transversal tests`` -- packings' "every transversal independent modulo the flat";
* ``search: pool scan``         -- the dependency pool's packing query;
* ``search: LPs``               -- HiGHS models (set-up, solve, read-back);
* ``search: flats``             -- closures of flats (children of a node);
* ``search: exact certificates`` -- float LP answers made exact (null spaces, witnesses);
* ``search: other``             -- the rest of the search (Python bookkeeping);
* ``start-up``                  -- imports (also inside the run), numba loading its kernels.

Run: ``python benchmarks/profile_parts.py --checkout before=/path/to/old --checkout after=.
[--n 11] [--c 10] [--seed 0] [--out benchmarks/results/components.json]``.  The runs alternate
(before, after, before, after, ...) with ``--repeats``; shares are medians over repeats.
Samples are wall-clock samples of the one process (``workers=1``), so shares do not depend on
how busy the machine is as much as seconds do; the seconds are reported too.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import _machine  # noqa: F401  (benchmarks/ is on sys.path when run as a script)

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")

# (component, frame predicate): the first that matches the innermost-first walk wins
_SEARCH_PARTS = [
    ("search: transversal tests", ("transversals_independent", "matroid.py")),
    ("search: pool scan", ("packing", "pool.py")),
    ("search: LPs", (None, "lp.py")),
    ("search: LPs", (None, "_highs.py")),
    ("search: flats", ("extend", "matroid.py")),
    ("search: flats", ("children", "node.py")),
    ("search: exact certificates", (None, "certificates.py")),
    ("search: exact certificates", (None, "simplex.py")),
]
_CHECK_TRANSVERSALS = ("transversals_independent", "_all_bases_mod_p", "_compiled_bases",
                       "first_dependent", "_merge_parallel")

_CHILD = """
import time, numpy as np, dsssolver as dss
W = np.random.default_rng([{n}, {c}, {seed}]).standard_normal(({c} * {n}, {n}))
t = time.perf_counter()
r = dss.certify(W, workers=1, time_limit={limit})
print("RESULT", r.status, time.perf_counter() - t, r.stats["nodes"], r.stats.get("check_seconds", 0.0))
"""


def _frames(line):
    stack, _, count = line.rstrip().rpartition(" ")
    out = []
    for f in stack.split(";"):
        name, _, where = f.partition(" (")
        path = where.split(":")[0]
        out.append((name.strip(), path if _is_library(path) else os.path.basename(path)))
    return out, int(count)


def _is_library(path):
    return any(lib in path for lib in ("/numba/", "/llvmlite/", "importlib"))


def classify(frames):
    """The component of one sample (frames outermost first)."""
    names = [n for n, _ in frames]
    if "certify" not in names or any(_is_library(f) for _, f in frames) \
            or any(n.endswith(("warm_up", "kernel", "_kernel")) for n in names):
        return "start-up"  # imports, numba loading its cached kernels
    in_check = any(f in ("check.py", "flats.py") for _, f in frames) and "check" in names
    if in_check:
        if any(n in _CHECK_TRANSVERSALS for n, f in frames if f in ("flats.py", "_jit.py")):
            return "check: transversal tests"
        return "check: other"
    for name, file in reversed(frames):
        for part, (want_name, want_file) in _SEARCH_PARTS:
            if file == want_file and (want_name is None or name.endswith(want_name)):
                return part
    return "search: other"


def profile(checkout, n, c, seed, limit, rate):
    """One profiled run: (component -> samples, run facts)."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "raw.txt")
        env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout), OPENBLAS_NUM_THREADS="1")
        code = _CHILD.format(n=n, c=c, seed=seed, limit=limit)
        t = time.perf_counter()
        out = subprocess.run(["py-spy", "record", "-r", str(rate), "-f", "raw", "-o", raw, "--",
                              sys.executable, "-c", code], env=env, capture_output=True, text=True,
                             cwd=tmp)  # not the current directory: it may hold another checkout
        wall = time.perf_counter() - t
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))
        status, seconds, nodes, check_seconds = line.split()[1:]
        parts = {}
        with open(raw) as fh:
            for line in fh:
                frames, count = _frames(line)
                key = classify(frames)
                parts[key] = parts.get(key, 0) + count
    return parts, {"status": status, "certify_seconds": float(seconds), "nodes": int(nodes),
                   "check_seconds": float(check_seconds), "process_seconds": wall}


def _commit(path):
    out = subprocess.run(["git", "-C", path, "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True)
    return out.stdout.strip() or None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkout", action="append", required=True, metavar="NAME=PATH",
                    help="a checkout to profile (repeat: before=..., after=...)")
    ap.add_argument("--n", type=int, default=11)
    ap.add_argument("--c", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--rate", type=int, default=100, help="samples per second")
    ap.add_argument("--time-limit", type=float, default=900.0)
    ap.add_argument("--out", default=os.path.join(RESULTS, "components.json"))
    a = ap.parse_args(argv)
    if shutil.which("py-spy") is None:
        sys.exit("profile_parts: py-spy is not installed here (pip install py-spy)")
    checkouts = [tuple(s.split("=", 1)) for s in a.checkout]
    runs = {name: [] for name, _ in checkouts}
    for rep in range(a.repeats):
        for name, path in checkouts:  # interleaved, so machine noise hits all alike
            parts, facts = profile(path, a.n, a.c, a.seed, a.time_limit, a.rate)
            runs[name].append({"parts": parts, **facts})
            print(f"{name} #{rep}: {facts}", file=sys.stderr, flush=True)
    summary = {}
    for name, rs in runs.items():
        keys = sorted({k for r in rs for k in r["parts"]})
        shares = {k: statistics.median(r["parts"].get(k, 0) / sum(r["parts"].values()) for r in rs)
                  for k in keys}
        summary[name] = {
            "share": {k: round(v, 4) for k, v in sorted(shares.items(), key=lambda kv: -kv[1])},
            "median_certify_seconds": statistics.median(r["certify_seconds"] for r in rs),
            "median_check_seconds": statistics.median(r["check_seconds"] for r in rs),
            "nodes": [r["nodes"] for r in rs],
            "status": sorted({r["status"] for r in rs}),
        }
    doc = {"instance": {"n": a.n, "c": a.c, "seed": a.seed, "m": a.c * a.n, "workers": 1},
           "checkouts": {name: {"path": path, "commit": _commit(path)} for name, path in checkouts},
           "machine": _machine.machine_facts({}, packages=("highspy", "numba")),
           "runs": runs, "summary": summary,
           "note": "py-spy wall-clock samples of one process; shares are medians over repeats"}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as fh:
        json.dump(doc, fh, indent=1)
    for name, s in summary.items():
        print(f"{name}: certify {s['median_certify_seconds']:.1f} s "
              f"(check {s['median_check_seconds']:.1f} s), nodes {s['nodes']}")
        for k, v in s["share"].items():
            print(f"   {100 * v:5.1f}%  {k}")
    return doc


if __name__ == "__main__":
    main()
