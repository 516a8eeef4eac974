"""The injectivity threshold of random ReLU layers, one exact threshold m*(W) per trial.

For a layer ``x -> ReLU(W x)`` (b = 0) with iid rows, the seed's Theorem 2 puts the
threshold of injectivity between c = m/n = 3.4 and 10.5 as n -> infinity; Maillard,
Bandeira, Belius, Dokmanic and Nakajima (2023) put it at 6.698 (non-rigorous), with a
rigorous upper bound 7.6477 (MATH.md section 7).  This benchmark estimates the finite-n
picture by Monte Carlo, with an exact verdict for every instance it uses.

Design (nested rows).  A trial draws ONE matrix ``W`` with ``M = ceil(c_max * n)`` rows
from a row law and defines ``m*(W)``, the least m whose first m rows give an injective
layer.  Adding rows never breaks injectivity (the active rows at any x only grow), so
P(first m rows injective) = P(m* <= m) and every trial gives the whole curve at once;
the estimated curve is monotone in m by construction.

How m* is found: an *incremental search with witness reuse*, not a binary search.
Starting at m = 1, ``dss.certify(W[:m])`` is called for increasing m.  A "not injective"
verdict comes with a witness pair (x1, x2); the later rows k for which
``ReLU(w_k x1) == ReLU(w_k x2)`` keep it a witness, so the prefix is extended over them
and the extended witness is re-checked by ``dss.check`` (the exact checker) before it is
used.  The first "injective" verdict ends the search: m* = that m, and the evidence for
m* is the pair (witness at m* - 1, proof at m*), both accepted by the exact checker; by
monotonicity these two verdicts fix m*.  Why not binary search: measured on Gaussian
layers (n = 6, 8), calls far below m* take about 0.01 s (the greedy dive finds the
witness), calls near m* take 0.5 - 1.5 s whatever the verdict, and proofs get cheaper
well above m*; binary search pays for several proofs near m*, the incremental search for
exactly one.

Censoring.  Each certify call has a time limit; an "unknown" verdict is recorded, never
guessed.  The search then goes on upwards: a later witness settles the unknown prefixes
below it (monotonicity), a later proof leaves m* interval-censored in (m_lo, m_hi]; after
``max_unknown`` unknowns in a row, or past M rows, the trial stops censored.  The
analysis uses only what the evidence settles (``threshold_analysis``).

Row laws (``LAWS``), each seeded by ``numpy.random.default_rng([law id, n, seed])``:
gaussian (iid N(0, 1) entries), uniform_cube (iid U[-1, 1]), cauchy (iid standard Cauchy),
sparse_rademacher (iid entries +-1 with probability 1/6 each, 0 with 2/3: zero,
repeated and antipodal rows occur), moment_curve (row i = s_i (T_0(t_i), ..., T_{n-1}(t_i))
with t_i ~ U[-1, 1] and fair signs s_i: the moment curve (1, t, ..., t^{n-1}) in the
Chebyshev basis, an invertible change of coordinates that keeps the layer's injectivity and
every minor's sign but is far better conditioned; the entries are float64, and the
verdict is exact for the matrix drawn).

Runs: trials go to a process pool (``--jobs``, default 1; each certify call then searches
with ``--workers`` processes, default the cores divided among the jobs) or to a Dask cluster
(``--scheduler ADDRESS``, or ``run(..., client=Client)``; ``pip install "dask[distributed]"``
or the ``dask`` extra; the workers must import ``dsssolver`` and ``benchmarks`` from the
same checkout).  Each finished trial is appended to a JSONL cache keyed by (law, n, seed),
so an interrupted run resumes where it stopped; every record carries the code version that
made it (git commit and a hash of the dsssolver sources).

Output: ``benchmarks/results/threshold.json`` (config, machine, per-trial records, the
analysis) and ``threshold.png``.  Run::

    nice -n 19 python benchmarks/threshold.py            # the full plan, resumable
    python benchmarks/threshold.py --quick               # about half a minute
    python benchmarks/threshold.py --analyse-only        # JSON + PNG from the cache
    python benchmarks/threshold.py --law gaussian --n 2 3 --trials 100
"""
from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import concurrent.futures as cf  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing as mp  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from fractions import Fraction  # noqa: E402

import numpy as np  # noqa: E402

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dsssolver as dss  # noqa: E402
from dsssolver.certify.parallel import local_cores  # noqa: E402
from dsssolver.cli._common import check_output_path  # noqa: E402
from benchmarks import _machine  # noqa: E402
from benchmarks import threshold_analysis as analysis  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
LAW_IDS = {"gaussian": 1, "uniform_cube": 2, "cauchy": 3, "sparse_rademacher": 4,
           "moment_curve": 5}
LAWS = tuple(LAW_IDS)

# The default plan, in the order it runs: cheap, widely useful trials first, so an
# interrupted run has balanced data (it resumes from its cache where it stopped).
# (law, n values, first seed, last seed + 1)
FULL_PLAN = [
    ("gaussian", range(2, 8), 0, 200),
    ("uniform_cube", range(2, 6), 0, 200),
    ("cauchy", range(2, 6), 0, 200),
    ("sparse_rademacher", range(2, 6), 0, 200),
    ("moment_curve", range(2, 6), 0, 200),
    ("gaussian", range(2, 6), 200, 1000),
    ("gaussian", [8], 0, 200),
    ("gaussian", [6], 200, 1000),
    ("gaussian", [9, 10], 0, 50),
    ("gaussian", [7, 8], 200, 1000),
    ("gaussian", range(9, 11), 50, 200),
    ("gaussian", range(11, 13), 0, 200),
    ("uniform_cube", range(6, 9), 0, 200),
    ("cauchy", range(6, 9), 0, 200),
    ("sparse_rademacher", range(6, 9), 0, 200),
    ("moment_curve", range(6, 9), 0, 200),
    ("sparse_rademacher", [9], 0, 200),
    ("uniform_cube", [9], 0, 200),
    ("cauchy", [9], 0, 200),
    ("moment_curve", [9], 0, 200),
]
# n = 2 with 400 trials: enough to hold the estimate to the exact formula (DKW band)
QUICK_PLAN = [("gaussian", [2], 0, 400)] + [(law, [2, 3, 4], 0, 12) for law in LAWS]


# ---------------------------------------------------------------------------- the laws

def draw(law, n, seed, rows):
    """The ``rows x n`` matrix of trial (law, n, seed); a trial uses its first m rows.

    Examples
    --------
    >>> draw("gaussian", 3, 0, 10).shape
    (10, 3)
    >>> bool((draw("gaussian", 3, 0, 10)[:4] == draw("gaussian", 3, 0, 4)).all())
    True
    """
    if law not in LAW_IDS:
        raise ValueError(f"law must be one of {LAWS}, got {law!r}")
    rng = np.random.default_rng([LAW_IDS[law], int(n), int(seed)])
    if law == "gaussian":
        return rng.standard_normal((rows, n))
    if law == "uniform_cube":
        return rng.uniform(-1.0, 1.0, (rows, n))
    if law == "cauchy":
        return rng.standard_cauchy((rows, n))
    if law == "sparse_rademacher":
        return rng.choice([-1.0, 0.0, 0.0, 0.0, 0.0, 1.0], size=(rows, n))
    t = rng.uniform(-1.0, 1.0, rows)
    s = rng.choice([-1.0, 1.0], size=rows)
    return s[:, None] * np.cos(np.outer(np.arccos(t), np.arange(n)))  # T_k(t) = cos(k acos t)


def moment_curve_exact(n, m, *, time_limit=None):
    """Exact P(m rows injective) for the moment_curve law, by enumerating the signs.

    The rows s_i (T_0(t_i), ..., T_{n-1}(t_i)) with distinct t_i have every n x n minor of
    one sign once sorted by t (a Vandermonde determinant in another basis), so the layer's
    oriented matroid, hence its injectivity, depends only on the signs s (and not on t).
    A global sign flip keeps injectivity (x -> -x), so the 2^(m-1) sign vectors with
    s_0 = +1 are decided, each exactly.  Returns a Fraction; raises if a verdict is unknown.

    Examples
    --------
    >>> moment_curve_exact(2, 6)  # the n = 2 law: 1 - 6*4/2^5
    Fraction(1, 4)
    """
    t = np.cos(np.pi * (np.arange(m) + 0.5) / m)  # distinct; only their order matters
    base = np.cos(np.outer(np.arccos(t), np.arange(n)))
    inj = 0
    for bits in range(2 ** (m - 1)):
        s = np.array([1.0] + [-1.0 if (bits >> k) & 1 else 1.0 for k in range(m - 1)])
        res = dss.certify(s[:, None] * base, time_limit=time_limit)
        if res.status == "unknown":
            raise RuntimeError(f"signs {bits:b}: unknown ({res.stats.get('reason')})")
        inj += res.status == "injective"
    return Fraction(inj, 2 ** (m - 1))


def rows_for(n, c_max):
    return int(math.ceil(c_max * n))


# --------------------------------------------------------------------------- one trial

def _witness_holds(W, k, x1, x2):
    """Whether row k keeps (x1, x2) a witness: ReLU(w_k x1) == ReLU(w_k x2), exactly."""
    w = [Fraction(float(v)) for v in W[k]]
    a = sum(wi * xi for wi, xi in zip(w, x1))
    b = sum(wi * xi for wi, xi in zip(w, x2))
    return max(a, 0) == max(b, 0)


def _extend_witness(W, m, res):
    """The largest m2 >= m whose prefix the witness of ``res`` (for W[:m]) still covers,
    with a result accepted by the exact checker for W[:m2] (``res`` itself when m2 = m)."""
    x1, x2 = res.witness
    m2 = m
    while m2 < len(W) and _witness_holds(W, m2, x1, x2):
        m2 += 1
    if m2 == m:
        return m, res
    ext = dss.CertifyResult(status="not_injective", shape=(m2, W.shape[1]),
                            message=f"witness of the first {m} rows, reused", witness=(x1, x2))
    ok = dss.check(ext, W[:m2])
    if not ok:  # cannot happen if _witness_holds is right; then fall back, never guess
        return m, res
    ext.checked = True
    return m2, ext


def _call_summary(m, res, seconds, reused_from=None):
    st = res.stats or {}
    out = {"m": m, "status": res.status, "seconds": round(seconds, 4),
           "nodes": st.get("nodes"), "lps": st.get("lps")}
    if res.status == "injective":
        out["dependencies"] = len(res.proof.dependencies)
    if res.status == "unknown":
        out["reason"] = st.get("reason")
    if reused_from is not None:
        out["witness_reused_from"] = reused_from
    return out


def search_m_star(W, *, time_limit=None, max_unknown=3, workers=None):
    """Incremental search for m*(W) with witness reuse (see the module docstring).

    Returns
    -------
    dict
        ``m_lo`` (largest m shown not injective, 0 if none), ``m_hi`` (least m shown
        injective, or None), ``m_star`` (``m_hi`` when ``m_hi == m_lo + 1``, else None:
        censored), ``below`` / ``at`` (summaries of the two deciding verdicts),
        ``unknown_m``, ``calls``, ``reused``, ``seconds``.

    Examples
    --------
    The four signed unit vectors of the plane: injective from the fourth row on.

    >>> W = np.array([[1., 0.], [0., 1.], [-1., 0.], [0., -1.], [1., 1.]])
    >>> r = search_m_star(W)
    >>> r["m_star"], r["m_lo"], r["m_hi"]
    (4, 3, 4)
    """
    t0 = time.perf_counter()
    lo, hi, below, at = 0, None, None, None
    unknown, calls, reused, run = [], 0, 0, 0
    m = 1
    while m <= len(W) and run < max_unknown:
        t = time.perf_counter()
        res = dss.certify(W[:m], time_limit=time_limit, workers=workers)
        calls += 1
        dt = time.perf_counter() - t
        if res.status != "unknown" and not res.checked:
            raise RuntimeError("certify returned evidence that was not re-checked")
        if res.status == "injective":
            hi, at = m, _call_summary(m, res, dt)
            break
        if res.status == "unknown":
            unknown.append(m)
            run += 1
            m += 1
            continue
        run = 0
        m2, ext = _extend_witness(W, m, res)
        reused += m2 > m
        lo = m2
        below = _call_summary(m2, ext, dt, reused_from=m if m2 > m else None)
        m = lo + 1
    return {"m_lo": lo, "m_hi": hi, "m_star": hi if hi is not None and hi == lo + 1 else None,
            "below": below, "at": at, "unknown_m": [u for u in unknown if u > lo],
            "calls": calls, "reused": reused, "seconds": round(time.perf_counter() - t0, 4)}


def run_trial(law, n, seed, *, time_limit=None, c_max=14.0, max_unknown=3, workers=None):
    """One trial: draw W for (law, n, seed), find m*(W), return a JSON-ready record.

    Examples
    --------
    >>> r = run_trial("gaussian", 2, 0)
    >>> r["m_star"] >= 4 and r["censored"] is False
    True
    """
    W = draw(law, n, seed, rows_for(n, c_max))
    rec = {"law": law, "n": int(n), "seed": int(seed), "rows": len(W),
           "time_limit": time_limit, "workers": workers}
    rec.update(search_m_star(W, time_limit=time_limit, max_unknown=max_unknown,
                             workers=workers))
    rec["censored"] = rec["m_star"] is None
    rec["code"] = _machine.code_version()
    rec["finished_utc"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    return rec


# ------------------------------------------------------------------- plan, cache, runs

def key_of(law, n, seed):
    return f"{law}/{int(n)}/{int(seed)}"


def plan_keys(plan):
    """[(law, n, seed)] in run order; ``plan`` as in ``FULL_PLAN``."""
    out, seen = [], set()
    for law, ns, s0, s1 in plan:
        for n in ns:
            for s in range(s0, s1):
                if key_of(law, n, s) not in seen:
                    seen.add(key_of(law, n, s))
                    out.append((law, int(n), s))
    return out


def load_cache(path):
    """{key: record} from a JSONL cache.  A line that is not a trial record (a torn last line
    of a killed run, or anything else) is skipped, and counted on stderr when it is not the
    torn last line."""
    out = {}
    if not path or not os.path.exists(path):
        return out
    bad = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().splitlines()
    for k, line in enumerate(lines):
        try:
            rec = json.loads(line)
            key = key_of(rec["law"], rec["n"], rec["seed"])
        except (json.JSONDecodeError, TypeError, KeyError, ValueError):
            bad += k < len(lines) - 1 and bool(line.strip())
            continue
        out[key] = rec
    if bad:
        print(f"threshold: {path}: skipped {bad} line(s) that are not trial records",
              file=sys.stderr)
    return out


def _append(path, rec):
    """Append one record as a line; after a torn last line (a killed run) start a new line, so
    the record is not glued to the fragment and lost."""
    line = json.dumps(rec, separators=(",", ":")) + "\n"
    with open(path, "a+b") as fh:  # appends go to the end, whatever was read
        fh.seek(0, os.SEEK_END)
        if fh.tell():
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                line = "\n" + line
        fh.write(line.encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())


def _local_results(todo, jobs, kw):
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as ex:
        futs = [ex.submit(run_trial, *k, **kw) for k in todo]
        try:
            for f in cf.as_completed(futs):
                yield f.result()
        except BaseException:
            for f in futs:
                f.cancel()
            raise


def _run_trial_kw(key, kw):
    return run_trial(*key, **kw)


def _dask_results(todo, client, kw):
    from distributed import as_completed

    # kw goes in whole: Client.submit reads some keywords (``workers``) as its own
    futs = [client.submit(_run_trial_kw, k, kw, pure=False) for k in todo]
    try:
        for f in as_completed(futs):
            yield f.result()
    except BaseException:
        client.cancel(futs)
        raise


def default_workers(jobs):
    """Search processes per certify call: the cores left to each of ``jobs`` trials.

    Two trials that each fork a 2-process search on 2 cores oversubscribe the machine and
    pay the split and merge of a parallel search for nothing; one process per trial keeps
    every core busy without either.

    >>> default_workers(local_cores())
    1
    """
    return max(1, local_cores() // max(1, jobs))


def run(keys, cache, *, jobs=1, client=None, time_limit=None, c_max=14.0, progress=True,
        workers=None):
    """Run the trials ``keys`` not yet in ``cache``; return every cached record of ``keys``.

    Trials go to ``client`` (a ``distributed.Client``) when given, else to ``jobs`` local
    processes.  Each certify call searches with ``workers`` processes (default: the local
    cores divided among the jobs; 1 on a Dask cluster, whose workers run trials side by
    side).  Each finished record is appended to ``cache`` at once.
    """
    done = load_cache(cache)
    todo = [k for k in keys if key_of(*k) not in done]
    if workers is None:
        workers = 1 if client is not None else default_workers(jobs)
    kw = {"time_limit": time_limit, "c_max": c_max, "workers": workers}
    results = _dask_results(todo, client, kw) if client is not None else \
        _local_results(todo, jobs, kw)
    bar = _machine.Progress(len(todo), "threshold trials", enabled=progress)
    try:
        for rec in results:
            _append(cache, rec)
            done[key_of(rec["law"], rec["n"], rec["seed"])] = rec
            ms = rec["m_star"] if rec["m_star"] is not None else \
                f"({rec['m_lo']},{rec['m_hi']}]"
            bar.step(f"{rec['law']} n={rec['n']} seed={rec['seed']} m*={ms} "
                     f"{rec['seconds']:.1f}s")
    finally:
        bar.close()
    return [done[key_of(*k)] for k in keys if key_of(*k) in done]


# ------------------------------------------------------------------------------ report

def report(records, out, *, config, machine):
    """Write the JSON (config, machine, trials, analysis) and the PNG beside it."""
    summary = analysis.summarise(records)
    versions = sorted({json.dumps(r.get("code"), sort_keys=True) for r in records})
    index = {v: i for i, v in enumerate(versions)}
    trials = [dict(_compact(r), code=index[json.dumps(r.get("code"), sort_keys=True)])
              for r in records]
    data = {"benchmark": "threshold", "config": config, "machine": machine,
            "analysis": summary, "code_versions": [json.loads(v) for v in versions],
            "trials": trials}  # a trial's "code" is its index in code_versions
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=None, separators=(",", ":"))
    os.replace(tmp, out)
    analysis.plot(summary, os.path.splitext(out)[0] + ".png")
    return data


def _compact(r):
    keep = ("law", "n", "seed", "m_star", "m_lo", "m_hi", "censored", "unknown_m", "calls",
            "reused", "seconds", "time_limit", "workers", "below", "at", "code")
    return {k: r.get(k) for k in keep}


def _config(args, keys):
    return {
        "plan": [[law, list(ns), s0, s1] for law, ns, s0, s1 in args.plan],
        "trials_planned": len(keys), "time_limit": args.time_limit, "c_max": args.c_max,
        "rows": "M = ceil(c_max * n) rows per trial, W = draw(law, n, seed, M)",
        "rng": "numpy.random.default_rng([law id, n, seed]); law ids " + json.dumps(LAW_IDS),
        "search": "incremental from m = 1, witness reuse, each verdict checked exactly",
        "reference_lines": [x for x, _ in analysis.REFERENCES],
        "code_versions": "git: the commit checked out where the trial ran (a branch may have been "
                         "rebased since, so it need not be on main); source_sha1: one hash of "
                         "every dsssolver/**/*.py, which identifies the code either way",
    }


def _positive(kind):
    """An argparse type: a number of ``kind`` (int or float) that is > 0 and finite."""
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}") \
                from None
        if not (v > 0 and math.isfinite(v)):
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return v
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small plan (well under a minute)")
    ap.add_argument("--law", nargs="+", choices=LAWS, help="laws (with --n and --trials)")
    ap.add_argument("--n", type=_positive(int), nargs="+", help="values of n (with --law)")
    ap.add_argument("--trials", type=_positive(int), default=100,
                    help="trials per (law, n) with --law")
    ap.add_argument("--time-limit", type=_positive(float), default=300.0,
                    help="seconds per certify call")
    ap.add_argument("--c-max", type=_positive(float), default=14.0,
                    help="rows per trial = c_max * n")
    ap.add_argument("--jobs", type=_positive(int), default=1,
                    help="local worker processes (default 1)")
    ap.add_argument("--workers", type=_positive(int), default=None,
                    help="search processes per certify call (default: cores // jobs)")
    ap.add_argument("--scheduler", help="address of a Dask scheduler to run the trials on")
    ap.add_argument("--cache", help="JSONL trial cache (default beside --out)")
    ap.add_argument("--out", help="JSON path (the PNG goes beside it)")
    ap.add_argument("--analyse-only", action="store_true", help="no new trials")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    if args.law:
        args.plan = [(law, args.n or [2, 3], 0, args.trials) for law in args.law]
    else:
        args.plan = QUICK_PLAN if args.quick else FULL_PLAN
    name = "threshold.quick" if args.quick else "threshold"
    args.out = args.out or os.path.join(RESULTS, name + ".json")
    args.cache = args.cache or os.path.splitext(args.out)[0] + ".trials.jsonl"
    return args


def _writable_or_exit(path, what):
    """One line and exit 2 when ``path`` cannot be written -- before any trial runs, not after."""
    try:
        check_output_path(path, what)
    except dss.InvalidInputError as exc:
        print(f"threshold.py: error: {exc}", file=sys.stderr)
        sys.exit(2)


def main(argv=None):
    args = parse_args(argv)
    if not args.analyse_only:
        _writable_or_exit(args.cache, "--cache")
    _writable_or_exit(args.out, "--out")
    keys = plan_keys(args.plan)
    machine = _machine.machine_facts(
        _machine.preimport_and_hash(), ("highspy",),
        "shared 2-core machine, run under nice: seconds are indicative, verdicts exact")
    client = None
    if args.scheduler and not args.analyse_only:
        try:
            from distributed import Client
        except ImportError:
            sys.exit('--scheduler needs dask: pip install "dask[distributed]"')
        client = Client(args.scheduler)
    try:
        if args.analyse_only:
            done = load_cache(args.cache)
            records = [done[key_of(*k)] for k in keys if key_of(*k) in done]
        else:
            records = run(keys, args.cache, jobs=args.jobs, client=client,
                          time_limit=args.time_limit, c_max=args.c_max,
                          progress=not args.no_progress, workers=args.workers)
    except KeyboardInterrupt:
        print("interrupted: reporting the trials that finished", file=sys.stderr)
        done = load_cache(args.cache)
        records = [done[key_of(*k)] for k in keys if key_of(*k) in done]
    finally:
        if client is not None:
            client.close()
    if not records:
        print(f"threshold: no finished trials of this plan in {args.cache}", file=sys.stderr)
    data = report(records, args.out, config=_config(args, keys), machine=machine)
    for line in analysis.headline(data["analysis"]):
        print(line, file=sys.stderr)
    return data


if __name__ == "__main__":
    main()
