"""Benchmark of dss.certify on Gaussian layers against its peers, side by side.

Instances: ``W`` with i.i.d. N(0, 1) entries, ``m = c * n`` rows, ``b = 0``;
instance ``(n, c, s)`` is ``numpy.random.default_rng([n, c, s]).standard_normal((c*n, n))``
so every cell can be reproduced alone.  Methods, run on the same instances one
after the other (the order rotates from instance to instance, so the noise of
this shared machine hits all of them alike):

* ``dss``        -- ``dss.certify(W, time_limit=T)``, exact, proof/witness re-checked
                    (its ``stats``: nodes, LPs, and ``check_seconds``, the exact proof check);
* ``reference``  -- ``dsssolver.testing.reference_certify`` (brute force over all
                    rank-(n-1) flats, exact); only when ``C(m, n-1) <= --max-flats``;
* ``milp_dir``   -- ``milp_certify(formulation="direction")``: plain big-M MILP, PuLP on HiGHS,
                    general (any W, b), floating;
* ``milp_depth`` -- ``milp_certify(formulation="depth", assume_general_position=True)``:
                    Tukey-depth MILP, needs b = 0 and general position (Gaussian: a.s.);
* ``depth``      -- ``data-depth``'s exact halfspace depth of the origin (C++), run in the
                    separate venv ``/tmp/depthvenv`` through ``benchmarks/_depth_worker.py``
                    (never a dsssolver dependency); injective iff depth >= n (b = 0, general
                    position).  Its seconds are the ``halfspace`` call alone (the worker's
                    torch import is recorded apart); skipped, and said so, if the venv is absent.

Every call runs in a forked child (a subprocess for data-depth) with a hard wall-clock
limit; a killed run is recorded as ``"timeout"``, a run that hit its own limit as
``"unknown"``, and both count in the medians at their elapsed time (the median is then
flagged as a lower bound).  For the peers, once more than half of a cell's seeds failed to
decide, the cell's remaining seeds and the larger ``n`` at the same ``c`` are recorded as
``"skipped: ..."`` (their medians could only be lower bounds anyway).  dss runs every
instance.  Verdicts are compared with dss.certify's exact verdict (with the reference's when
dss is undecided); any disagreement is printed and listed under ``"disagreements"``.

Output: ``benchmarks/results/certify_bench.json`` and ``certify_bench.png`` (log seconds
against n, one line per method and c; medians, min/max bars; hollow markers = lower bounds).
BLAS is pinned to one thread, HiGHS runs with one thread.

Run: ``python benchmarks/certify_bench.py [--quick] [--n 4 6 8] [--c 4 7 10] [--seeds K]
[--time-limit S] [--out PATH]`` (progress on stderr).  ``--targets [NAME ...]`` runs the
larger-layer targets instead (``benchmarks/_targets.py``: sub-layers, dive, workers, against
the previous strategy; ``results/certify_targets.json`` and ``.png``).
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing as mp  # noqa: E402
import statistics  # noqa: E402
import select  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import _machine  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
import dsssolver as dss  # noqa: E402
from dsssolver.testing.milp import milp_certify  # noqa: E402
from dsssolver.testing.reference import reference_certify  # noqa: E402


SOURCE_HASHES = _machine.preimport_and_hash()

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
DEPTH_PY = "/tmp/depthvenv/bin/python"
DEPTH_WORKER = os.path.join(HERE, "_depth_worker.py")
METHODS = ["dss", "reference", "milp_dir", "milp_depth", "depth"]
DECIDED = ("injective", "not_injective")


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def instance(n, c, s):
    return np.random.default_rng([n, c, s]).standard_normal((c * n, n))


def _jsonable(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return str(v)


# ---------------------------------------------------------------- method bodies (in a child)

def _run_dss(W, limit):
    t = time.perf_counter()
    r = dss.certify(W, time_limit=limit)
    sec = time.perf_counter() - t
    st = {k: _jsonable(v) for k, v in (r.stats or {}).items()}
    return {"status": r.status, "seconds": sec, "checked": bool(getattr(r, "checked", False)),
            "stats": st}


def _run_reference(W, limit):
    t = time.perf_counter()
    r = reference_certify(W)
    return {"status": r.status, "seconds": time.perf_counter() - t, "lps": int(r.lps)}


def _run_milp(W, limit, formulation):
    t = time.perf_counter()
    r = milp_certify(W, time_limit=limit, formulation=formulation,
                     assume_general_position=(formulation == "depth"))
    return {"status": r.status, "seconds": time.perf_counter() - t,
            "solver_status": str(r.solver_status), "objective": _jsonable(r.objective)}


BODIES = {
    "dss": _run_dss,
    "reference": _run_reference,
    "milp_dir": lambda W, limit: _run_milp(W, limit, "direction"),
    "milp_depth": lambda W, limit: _run_milp(W, limit, "depth"),
}


def _child(conn, name, W, limit):
    try:
        # HiGHS prints a banner on stdout in some versions; keep stdout for nothing else
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        out = BODIES[name](W, limit)
    except Exception as e:  # noqa: BLE001 -- recorded, never dropped
        out = {"status": f"error: {type(e).__name__}: {e}"[:500], "seconds": None}
    conn.send(out)
    conn.close()


def run_forked(name, W, limit, hard):
    """Run method ``name`` on W in a forked child; kill it after ``hard`` seconds."""
    ctx = mp.get_context("fork")
    a, b = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(b, name, W, limit))
    t = time.perf_counter()
    p.start()
    b.close()
    out = None
    if a.poll(hard):
        try:
            out = a.recv()
        except EOFError:
            out = None
    wall = time.perf_counter() - t
    if out is None:
        if p.is_alive():
            p.kill()  # our own child, by its pid
            p.join()
            out = {"status": "timeout", "seconds": wall,
                   "note": f"killed after {hard:.0f} s wall"}
        else:
            p.join()
            out = {"status": f"error: child exited with code {p.exitcode}", "seconds": wall}
    else:
        p.join()
    out["wall"] = wall
    return out


class DepthWorker:
    """A persistent ``_depth_worker.py`` in /tmp/depthvenv: torch is imported once.

    A request that exceeds its limit kills the worker (our own child, by pid); the next
    request starts a fresh one.  The limit covers the ``halfspace`` call (plus pipe and
    ``np.load``), not the imports.
    """

    def __init__(self):
        self.proc = None
        self.tmp = tempfile.mkdtemp(prefix="certify_bench_")
        self.import_seconds = []

    def _start(self):
        self.proc = subprocess.Popen([DEPTH_PY, DEPTH_WORKER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        line = self._readline(300)
        if line is None:
            self.kill()
            raise RuntimeError("depth worker did not start within 300 s")
        self.import_seconds.append(json.loads(line)["import_seconds"])

    def _readline(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return None
        return self.proc.stdout.readline() or None

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def run(self, W, limit):
        if not os.path.exists(DEPTH_PY):
            return {"status": "skipped: /tmp/depthvenv absent", "seconds": None}
        m, n = W.shape
        try:
            if self.proc is None or self.proc.poll() is not None:
                self._start()
        except Exception as e:  # noqa: BLE001
            return {"status": f"error: {e}"[:300], "seconds": None}
        f = os.path.join(self.tmp, "W.npy")
        np.save(f, W)
        t = time.perf_counter()
        self.proc.stdin.write(f + "\n")
        self.proc.stdin.flush()
        line = self._readline(limit)
        wall = time.perf_counter() - t
        if line is None:
            alive = self.proc.poll() is None
            self.kill()
            if alive:
                return {"status": "timeout", "seconds": wall, "wall": wall,
                        "note": f"killed after {limit:.0f} s wall"}
            return {"status": "error: depth worker died", "seconds": wall, "wall": wall}
        r = json.loads(line)
        if "error" in r:
            return {"status": f"error: {r['error']}"[:300], "seconds": wall, "wall": wall}
        depth = r["depth"]
        k = round(depth)
        out = {"status": "injective" if k >= n else "not_injective", "seconds": r["seconds"],
               "wall": wall, "depth": depth}
        if abs(depth - k) > 1e-6:
            out["note"] = f"depth*m = {depth} is not an integer"
        return out


# ---------------------------------------------------------------- summary

def undecided(rec):
    return rec["status"] not in DECIDED and not rec["status"].startswith("skipped")


def summarize_cell(recs):
    """recs: the per-seed records of one method in one cell."""
    ran = [r for r in recs if not r["status"].startswith("skipped")]
    out = {"runs": len(ran), "skipped": len(recs) - len(ran),
           "verdicts": {}}
    for r in recs:
        key = r["status"].split(":")[0]
        out["verdicts"][key] = out["verdicts"].get(key, 0) + 1
    secs = [r["seconds"] for r in ran if r.get("seconds") is not None]
    if secs:
        out["median_seconds"] = statistics.median(secs)
        out["min_seconds"] = min(secs)
        out["max_seconds"] = max(secs)
        out["median_is_lower_bound"] = any(undecided(r) for r in ran) or out["skipped"] > 0
    else:
        out["median_seconds"] = None
    return out


def machine_facts():
    facts = _machine.machine_facts(SOURCE_HASHES, ("highspy", "pulp"),
                                   "shared, noisy machine: quote medians")
    if os.path.exists(DEPTH_PY):
        v = subprocess.run([DEPTH_PY, "-c", "from importlib.metadata import version as v;"
                            "print(v('data-depth'), v('torch'))"], capture_output=True, text=True)
        facts["data_depth"] = v.stdout.strip() or v.stderr.strip()[-200:]
    else:
        facts["data_depth"] = "absent: /tmp/depthvenv missing, peer skipped"
    return facts


def plot(summary, path, methods):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"dss": "C0", "reference": "C1", "milp_dir": "C2", "milp_depth": "C3",
              "depth": "C4"}
    styles = {4: ("o", "-"), 7: ("s", "--"), 10: ("^", ":")}
    fig, ax = plt.subplots(figsize=(9, 6))
    cs = sorted({cell["c"] for cell in summary})
    for meth in methods:
        for c in cs:
            pts = [(cell["n"], cell["methods"][meth]) for cell in summary
                   if cell["c"] == c and cell["methods"].get(meth, {}).get("median_seconds")]
            if not pts:
                continue
            ns = np.array([p[0] for p in pts]) + 0.06 * (methods.index(meth) - 2)
            med = np.array([p[1]["median_seconds"] for p in pts])
            lo = med - np.array([p[1]["min_seconds"] for p in pts])
            hi = np.array([p[1]["max_seconds"] for p in pts]) - med
            mk, ls = styles.get(c, ("D", "-."))
            ax.errorbar(ns, med, yerr=[lo, hi], color=colors[meth], marker=mk, ls=ls,
                        capsize=3, label=f"{meth} c={c}", mfc=colors[meth])
            cens = [i for i, p in enumerate(pts) if p[1]["median_is_lower_bound"]]
            if cens:
                ax.plot(ns[cens], med[cens], ls="none", marker=mk, ms=11, mfc="white",
                        mec=colors[meth])
    ax.set_yscale("log")
    ax.set_xlabel("n (m = c n, Gaussian, b = 0)")
    ax.set_ylabel("seconds per instance (median, min/max bars)")
    ax.set_title("Exact ReLU-layer injectivity: dss.certify vs peers\n"
                 "hollow = lower bound (some seeds timed out / skipped)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small subset, < 1 minute")
    ap.add_argument("--n", type=int, nargs="+", default=None,
                    help="default 4 5 6 7 8 10 12 (--quick: 4 6 8)")
    ap.add_argument("--c", type=int, nargs="+", default=None,
                    help="default 4 7 10 (--quick: 4 7)")
    ap.add_argument("--seeds", type=int, default=None,
                    help="seeds per cell (default 5 for n <= 5, 3 above)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="dss and MILP, seconds")
    ap.add_argument("--ref-time-limit", type=float, default=None,
                    help="brute-force reference, seconds (default: --time-limit)")
    ap.add_argument("--max-flats", type=float, default=4e4,
                    help="run the reference only when C(m, n-1) <= this (it needs about "
                         "1.5 ms a flat here, so 4e4 flats is about the 60 s limit)")
    ap.add_argument("--depth-time-limit", type=float, default=200.0)
    ap.add_argument("--depth-max-n", type=int, default=8)
    ap.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    ap.add_argument("--out", default=None, help="JSON path (PNG next to it)")
    ap.add_argument("--targets", nargs="*", default=None, metavar="NAME",
                    help="instead of the grid: the larger-layer targets (all, or those named), "
                         "current strategies vs the previous one (benchmarks/_targets.py)")
    a = ap.parse_args(argv)
    if a.targets is not None:
        import _targets

        out = a.out or os.path.join(RESULTS, "certify_targets.json")
        _targets.run_targets(out, seeds=tuple(range(a.seeds or 3)), names=a.targets or None,
                             log=log, machine=machine_facts())
        return
    if a.quick:
        a.n, a.c = a.n or [4, 6, 8], a.c or [4, 7]
        a.seeds = a.seeds or 1
        a.time_limit = min(a.time_limit, 2.0)
        a.depth_time_limit = min(a.depth_time_limit, 5.0)
        a.depth_max_n = min(a.depth_max_n, 6)
        a.max_flats = min(a.max_flats, 1000)
    a.n, a.c = a.n or [4, 5, 6, 7, 8, 10, 12], a.c or [4, 7, 10]
    ref_limit = a.ref_time_limit or a.time_limit
    out = a.out or os.path.join(RESULTS, "certify_bench.quick.json" if a.quick
                                else "certify_bench.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    png = os.path.splitext(out)[0] + ".png"

    def nseeds(n):
        return a.seeds if a.seeds else (5 if n <= 5 else 3)

    def limit_of(meth):
        return {"reference": ref_limit, "depth": a.depth_time_limit}.get(meth, a.time_limit)

    def cell_median(meth, n, c):
        recs = [r["results"][meth] for r in runs if r["n"] == n and r["c"] == c]
        if not recs:
            return None
        sm = summarize_cell(recs)
        if sm.get("median_seconds") is None or sm["median_is_lower_bound"]:
            return None
        return sm["median_seconds"]

    def predicted(meth, n, c):
        """A skip reason when the trend over the two previous n (same c) exceeds 3x the limit.

        Only used once the previous median is at least a quarter of the limit.
        """
        prev = [k for k in a.n if k < n]
        if len(prev) < 2:
            return None
        n1, n2 = prev[-2], prev[-1]
        t1, t2 = cell_median(meth, n1, c), cell_median(meth, n2, c)
        if not t1 or not t2 or t2 < limit_of(meth) / 4:  # small times: noise, not trend
            return None
        est = t2 * max(t2 / t1, 1.0) ** ((n - n2) / (n2 - n1))
        if est > 3 * limit_of(meth):
            return (f"predicted {est:.0f} s > 3 x limit {limit_of(meth):.0f} s from medians "
                    f"{t1:.3g} s (n={n1}), {t2:.3g} s (n={n2}) at c={c}")
        return None

    doc = {
        "benchmark": "certify_bench",
        "argv": sys.argv[1:],
        "config": {"n": a.n, "c": a.c, "seeds": {n: nseeds(n) for n in a.n},
                   "time_limit": a.time_limit, "ref_time_limit": ref_limit,
                   "max_flats": a.max_flats, "depth_time_limit": a.depth_time_limit,
                   "depth_max_n": a.depth_max_n, "methods": a.methods,
                   "instance": "numpy.random.default_rng([n, c, seed]).standard_normal((c*n, n)), "
                               "b = 0"},
        "machine": machine_facts(),
        "partial": True,
        "runs": [],
        "disagreements": [],
    }
    t_start = time.perf_counter()
    blocked = {}  # (method, c) -> reason: peers skip larger n after a censored cell
    cell_fail = {}  # (method, n, c) -> undecided count
    runs = doc["runs"]
    k_inst = 0
    depthw = DepthWorker()

    def save():
        doc["elapsed_seconds"] = time.perf_counter() - t_start
        doc["summary"] = build_summary(doc, a)
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, out)
        try:
            plot(doc["summary"]["cells"], png, a.methods)
        except Exception as e:  # noqa: BLE001
            log("plot failed:", e)

    for n in a.n:
        for s in range(nseeds(n)):
            for c in a.c:
                W = instance(n, c, s)
                m = c * n
                flats = math.comb(m, n - 1)
                order = a.methods[k_inst % len(a.methods):] + a.methods[:k_inst % len(a.methods)]
                k_inst += 1
                rec = {"n": n, "c": c, "m": m, "seed": s, "flats": flats, "order": order,
                       "results": {}}
                for meth in order:
                    why = None
                    if meth != "dss":
                        if (meth, c) in blocked:
                            why = blocked[(meth, c)]
                        elif cell_fail.get((meth, n, c), 0) * 2 > nseeds(n):
                            why = "more than half of this cell's seeds undecided"
                        elif predicted(meth, n, c) is not None:
                            why = predicted(meth, n, c)
                        elif meth == "reference" and flats > a.max_flats:
                            why = f"too many flats ({flats})"
                        elif meth == "depth" and n > a.depth_max_n:
                            why = f"n > depth-max-n = {a.depth_max_n}"
                    if why:
                        r = {"status": f"skipped: {why}", "seconds": None}
                    elif meth == "depth":
                        r = depthw.run(W, a.depth_time_limit)
                    elif meth == "reference":
                        r = run_forked(meth, W, ref_limit, ref_limit)
                    elif meth == "dss":
                        r = run_forked(meth, W, a.time_limit, 2.5 * a.time_limit + 30)
                    else:
                        r = run_forked(meth, W, a.time_limit, 1.5 * a.time_limit + 30)
                    rec["results"][meth] = r
                    if undecided(r):
                        cell_fail[(meth, n, c)] = cell_fail.get((meth, n, c), 0) + 1
                        if meth != "dss" and cell_fail[(meth, n, c)] * 2 > nseeds(n):
                            blocked[(meth, c)] = (f"cell n={n} c={c} had more than half of "
                                                  f"its seeds undecided")
                    sec = r.get("seconds")
                    extra = ""
                    if meth == "dss" and "stats" in r:
                        st = r["stats"]
                        extra = (f" nodes={st.get('nodes')} lps={st.get('lps')}"
                                 f" check={st.get('check_seconds', 0) or 0:.2f}s")
                    log(f"n={n:2d} c={c:2d} m={m:3d} seed={s} {meth:10s} {r['status'][:60]:24s}"
                        + (f" {sec:8.2f}s" if sec is not None else "") + extra)
                # verdict comparison
                ref_exact = rec["results"].get("dss", {}).get("status")
                src = "dss"
                if ref_exact not in DECIDED:
                    ref_exact = rec["results"].get("reference", {}).get("status")
                    src = "reference"
                rec["exact_verdict"] = ref_exact if ref_exact in DECIDED else None
                rec["exact_verdict_source"] = src if ref_exact in DECIDED else None
                for meth, r in rec["results"].items():
                    if (rec["exact_verdict"] and r["status"] in DECIDED
                            and r["status"] != rec["exact_verdict"]):
                        d = {"n": n, "c": c, "seed": s, "method": meth, "method_verdict": r["status"],
                             "exact_verdict": rec["exact_verdict"], "source": src}
                        doc["disagreements"].append(d)
                        log("!!! DISAGREEMENT", d)
                        print("!!! DISAGREEMENT", json.dumps(d), flush=True)
                runs.append(rec)
                save()
    depthw.kill()
    doc["depth_worker_import_seconds"] = depthw.import_seconds
    doc["partial"] = False
    save()
    print_table(doc)
    log(f"wrote {out} and {png} in {doc['elapsed_seconds']:.0f} s")
    return doc


def build_summary(doc, a):
    cells = []
    for n in a.n:
        for c in a.c:
            recs = [r for r in doc["runs"] if r["n"] == n and r["c"] == c]
            if not recs:
                continue
            cell = {"n": n, "c": c, "m": c * n, "seeds": [r["seed"] for r in recs],
                    "flats": recs[0]["flats"], "methods": {}}
            for meth in a.methods:
                cell["methods"][meth] = summarize_cell([r["results"][meth] for r in recs])
            dres = [r["results"]["dss"] for r in recs]
            st = [d.get("stats", {}) for d in dres]
            cell["dss_detail"] = {
                "nodes": [x.get("nodes") for x in st],
                "lps": [x.get("lps") for x in st],
                "lp_seconds": [x.get("lp_seconds") for x in st],
                "check_seconds": [x.get("check_seconds") for x in st],
                "check_fraction_median": _median_frac(st),
                "statuses": [d["status"] for d in dres],
                "over_time_limit_seeds": [r["seed"] for r, d in zip(recs, dres)
                                          if (d.get("seconds") or 0) > 1.05 * a.time_limit],
            }
            dm = cell["methods"]["dss"].get("median_seconds")
            cell["ratio_to_dss"] = {}
            for meth in a.methods:
                mm = cell["methods"][meth].get("median_seconds")
                if meth == "dss" or not mm or not dm:
                    continue
                lb_m = cell["methods"][meth]["median_is_lower_bound"]
                lb_d = cell["methods"]["dss"]["median_is_lower_bound"]
                cell["ratio_to_dss"][meth] = {
                    "ratio_of_medians": mm / dm,
                    "kind": ("undefined: both censored" if lb_m and lb_d else
                             "lower bound" if lb_m else "upper bound" if lb_d else "exact")}
            cells.append(cell)
    summ = {"cells": cells}
    t = [c for c in cells if c["n"] == 8 and c["c"] == 7]
    if t:
        d = t[0]["methods"]["dss"]
        summ["target_n8_c7"] = {"median_seconds": d.get("median_seconds"),
                                "min_seconds": d.get("min_seconds"),
                                "max_seconds": d.get("max_seconds"),
                                "runs": d["runs"], "verdicts": d["verdicts"],
                                "target_seconds": 2.0,
                                "met": bool(d.get("median_seconds") is not None
                                            and not d["median_is_lower_bound"]
                                            and d["median_seconds"] < 2.0)}
    else:
        summ["target_n8_c7"] = {"median_seconds": None, "met": False,
                                "note": "cell n=8 c=7 not in this run"}
    return summ


def _median_frac(st):
    fr = [x["check_seconds"] / x["seconds"] for x in st
          if x.get("check_seconds") is not None and x.get("seconds")]
    return statistics.median(fr) if fr else None


def print_table(doc):
    ms = doc["config"]["methods"]
    print(f"{'n':>3} {'c':>3} {'m':>4} " + " ".join(f"{m:>16}" for m in ms)
          + "   dss verdicts / nodes / check%")
    for cell in doc["summary"]["cells"]:
        row = []
        for m in ms:
            s = cell["methods"][m]
            if s.get("median_seconds") is None:
                row.append(f"{'skip':>16}")
            else:
                med = ('>=' if s['median_is_lower_bound'] else '') + format(s['median_seconds'], '.3g')
                row.append(f"{med:>16}")
        dd = cell["dss_detail"]
        cf = dd["check_fraction_median"]
        print(f"{cell['n']:>3} {cell['c']:>3} {cell['m']:>4} " + " ".join(row)
              + f"   {cell['methods']['dss']['verdicts']} {dd['nodes']}"
              + (f" {100 * cf:.0f}%" if cf is not None else ""))
    print("target n=8 c=7:", json.dumps(doc["summary"]["target_n8_c7"]))
    print("disagreements:", len(doc["disagreements"]))


if __name__ == "__main__":
    main()
