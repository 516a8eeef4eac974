"""Exact finite-n curves of P(injective) for Gaussian ReLU layers (seed Theorem 2).

For ``W`` with i.i.d. N(0, 1) entries, ``m = c * n`` rows and ``b = 0``, the seed's
Theorem 2 says P(x -> ReLU(Wx) injective) -> 1 for c >~ 10.5 and -> 0 for c <~ 3.4 as
n -> infinity; Maillard, Bandeira, Belius, Dokmanic, Nakajima (2023, arXiv 2302.14112) put
the sharp threshold at c ~ 6.698 (non-rigorous) with a rigorous upper bound 7.6477
(MATH.md section 7).  No exact finite-n curves are published: this benchmark measures them.

Every instance is decided EXACTLY by ``dss.certify`` (witness or proof re-checked in
rational arithmetic inside certify); a random 5 % of the decided instances is re-checked
once more here with ``dss.check(res, W)``.  Undecided instances ("unknown", or a hard
timeout) are counted and reported, never dropped: P(injective) is given over the decided
instances, with the bounds that putting every unknown on either side would give.

Instance ``(n, m, k)``: ``numpy.random.default_rng(1_000_000*n + 1000*m + k)
.standard_normal((m, n))``, b = 0, for ``m = round(c*n)`` on a grid of c (a c whose m
repeats an earlier one at the same n is skipped), ``k = 0..K-1``.  The c of a point is
``m / n`` exactly.  Per point: verdict counts, P(injective) with a Wilson 95 % interval,
median and max seconds (and the seed of the slowest).  Per n: c_1/2, the c where P = 1/2,
by linear interpolation between the grid points around the first upward crossing of 1/2,
also from the monotone (isotonic, weighted) fit, with a parametric-bootstrap 95 % interval
of the latter.  For n = 2 an independent floating-point check (depth of the origin among
the rows by an angular sweep) is compared with certify's verdicts, and the estimates with
the exact value  P_2(m) = 1 - m(m-2) / 2^(m-1)  (m >= 4; 0 for m < 4), see ``p_exact_n2``.

Output: ``benchmarks/results/gaussian_threshold.json`` (machine facts, config, per-point
data, per-n summary; written after every point, ``"partial": true`` until the end) and
``gaussian_threshold.png`` (P vs c, one curve per n, reference lines; c_1/2 vs n).
``certify`` runs in one persistent forked worker (HiGHS single-threaded, BLAS pinned to one
thread); a call that overruns ``time_limit + 60`` s of wall time is killed and recorded as
``"timeout"`` (counted with the unknowns).

Run: ``python benchmarks/gaussian_threshold.py [--quick] [--n 2 3 ...] [--seeds K]
[--time-limit S] [--out PATH] [--jobs J]`` (progress lines on stderr);
``--replot`` recomputes the summaries and the PNG from an existing JSON (``--out``).
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing as mp  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import _machine  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
import dsssolver as dss  # noqa: E402


SOURCE_HASHES = _machine.preimport_and_hash()

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
DECIDED = ("injective", "not_injective")
RECHECK_FRACTION = 0.05
Z95 = 1.959963984540054

# reference values of c = m/n (all asymptotic, n -> infinity)
REFERENCE_LINES = [
    (3.4, "seed Thm 2: P -> 0 below 3.4", "tab:red", "--"),
    (6.698, "Maillard et al. 2023: threshold 6.698 (non-rigorous)", "k", "-"),
    (7.6477, "Maillard et al. 2023: rigorous upper bound 7.6477", "tab:gray", "-."),
    (10.5, "seed Thm 2: P -> 1 above 10.5", "tab:green", "--"),
]

FULL_GRID = [2.0, 2.5] + [3.0 + 0.25 * i for i in range(17)] + [7.5, 8.0, 8.5, 9.0, 9.5, 10.0]
FULL_SEEDS = {2: 200, 3: 200, 4: 200, 5: 200, 6: 100, 7: 100, 8: 50, 9: 30}
QUICK_GRID = [2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
QUICK_SEEDS = 20


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def seed_of(n, m, k):
    return 1_000_000 * n + 1000 * m + k


def instance(n, m, k):
    return np.random.default_rng(seed_of(n, m, k)).standard_normal((m, n))


def rechecked(n, m, k):
    """Whether instance (n, m, k) is in the random 5 % re-checked with dss.check (fixed)."""
    return bool(np.random.default_rng([7, n, m, k]).random() < RECHECK_FRACTION)


def grid_points(n, cs):
    """[(c_nominal, m)] with m = round(c*n), first occurrence of each m only, m >= 1."""
    seen, out = set(), []
    for c in cs:
        m = int(round(c * n))
        if m < 1 or m in seen:
            continue
        seen.add(m)
        out.append((c, m))
    return out


# ------------------------------------------------------------------- the worker process

def _solve(n, m, k, time_limit):
    W = instance(n, m, k)
    t = time.perf_counter()
    res = dss.certify(W, time_limit=time_limit)
    sec = time.perf_counter() - t
    st = res.stats or {}
    out = {"status": res.status, "seconds": sec, "nodes": st.get("nodes"), "lps": st.get("lps"),
           "check_seconds": st.get("check_seconds"), "reason": st.get("reason"),
           "recheck": None}
    if res.status in DECIDED and rechecked(n, m, k):
        t = time.perf_counter()
        ok, msg = dss.check(res, W, explain=True)
        out["recheck"] = {"ok": bool(ok), "message": str(msg)[:200],
                          "seconds": time.perf_counter() - t}
    return out


def _worker_main(conn):
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # HiGHS banners; stdout is not used
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            out = _solve(*job)
        except Exception as e:  # noqa: BLE001 -- recorded, never dropped
            out = {"status": f"error: {type(e).__name__}: {e}"[:500], "seconds": None}
        conn.send(out)


class Worker:
    """One persistent forked worker; killed (by its pid) and restarted after an overrun."""

    def __init__(self):
        self.proc = self.conn = None
        self.job = self.started = None

    def _start(self):
        ctx = mp.get_context("fork")
        a, b = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(b,), daemon=True)
        self.proc.start()
        b.close()
        self.conn = a

    def submit(self, job):
        if self.proc is None or not self.proc.is_alive():
            self._start()
        self.job, self.started = job, time.perf_counter()
        self.conn.send(job)

    def poll(self, hard):
        """The result of the current job, or None if it is still running."""
        if self.conn.poll(0):
            try:
                out = self.conn.recv()
            except EOFError:
                out = {"status": f"error: worker died (exit {self.proc.exitcode})",
                       "seconds": time.perf_counter() - self.started}
                self.proc = None
            self.job = None
            return out
        wall = time.perf_counter() - self.started
        if not self.proc.is_alive() or wall > hard:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join()
            out = {"status": "timeout" if wall > hard else
                   f"error: worker died (exit {self.proc.exitcode})",
                   "seconds": wall, "note": f"killed after {wall:.0f} s wall"}
            self.proc, self.job = None, None
            return out
        return None

    def close(self):
        if self.proc is not None and self.proc.is_alive():
            try:
                self.conn.send(None)
            except OSError:
                pass
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join()


def run_point(workers, n, m, K, time_limit):
    """Run seeds 0..K-1 of (n, m) over the workers; results in seed order."""
    hard = time_limit + 60.0
    todo = list(range(K))
    results = [None] * K
    busy = {}
    while todo or busy:
        for w in workers:
            if w not in busy and todo:
                k = todo.pop(0)
                w.submit((n, m, k, time_limit))
                busy[w] = k
        done = False
        for w, k in list(busy.items()):
            out = w.poll(hard)
            if out is not None:
                results[k] = out
                del busy[w]
                done = True
        if not done:
            time.sleep(0.0005)
    return results


# ------------------------------------------------------------------------------ statistics

def wilson(x, N, z=Z95):
    if N == 0:
        return None, None
    p = x / N
    den = 1 + z * z / N
    centre = (p + z * z / (2 * N)) / den
    half = z / den * math.sqrt(p * (1 - p) / N + z * z / (4 * N * N))
    lo = 0.0 if x == 0 else max(0.0, centre - half)
    hi = 1.0 if x == N else min(1.0, centre + half)
    return lo, hi


def isotonic(y, w):
    """Weighted pool-adjacent-violators fit, non-decreasing."""
    blocks = []  # [value, weight, length]
    for yi, wi in zip(y, w):
        blocks.append([yi, wi, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, l2 = blocks.pop()
            v1, w1, l1 = blocks.pop()
            ww = w1 + w2
            blocks.append([(v1 * w1 + v2 * w2) / ww if ww > 0 else (v1 + v2) / 2, ww, l1 + l2])
    out = []
    for v, _, ln in blocks:
        out.extend([v] * ln)
    return out


def crossings(cs, ps, level=0.5):
    """Linear-interpolation crossings of ``level``: list of (c, "up"/"down")."""
    out = []
    for i in range(1, len(cs)):
        p0, p1 = ps[i - 1], ps[i]
        if p0 < level <= p1 or p0 > level >= p1:
            if p1 == level and i + 1 < len(cs) and ps[i + 1] == level:
                continue  # plateau at the level: handled at its far end
            c = cs[i - 1] + (level - p0) / (p1 - p0) * (cs[i] - cs[i - 1])
            out.append((c, "up" if p1 > p0 else "down"))
    return out


def c_half_of(cs, ps):
    """First upward crossing of 1/2 (linear interpolation); a plateau exactly at 1/2 gives
    its middle.  None when P stays on one side of 1/2 over the grid."""
    idx = [i for i, p in enumerate(ps) if p == 0.5]
    if idx:
        # plateau at exactly 1/2 (possible in the isotonic fit): its middle
        i0 = idx[0]
        i1 = i0
        while i1 + 1 < len(ps) and ps[i1 + 1] == 0.5:
            i1 += 1
        if (i0 == 0 or ps[i0 - 1] < 0.5) and (i1 + 1 == len(ps) or ps[i1 + 1] > 0.5):
            return (cs[i0] + cs[i1]) / 2
    ups = [c for c, d in crossings(cs, ps) if d == "up"]
    return ups[0] if ups else None


def bootstrap_c_half(cs, xs, Ns, reps=2000, seed=12345):
    rng = np.random.default_rng(seed)
    ps = np.array([x / N if N else 0.0 for x, N in zip(xs, Ns)])
    Ns = np.array(Ns)
    vals, none = [], 0
    for _ in range(reps):
        xb = rng.binomial(Ns, ps)
        pb = [x / N if N else 0.0 for x, N in zip(xb, Ns)]
        c = c_half_of(cs, isotonic(pb, list(Ns)))
        if c is None:
            none += 1
        else:
            vals.append(c)
    if not vals:
        return None, None, none
    return float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5)), none


def p_exact_n2(m):
    """Exact P(injective) for n = 2, b = 0, rows iid from any centrally symmetric law in
    general position (e.g. Gaussian): 1 - m(m-2)/2^(m-1) for m >= 4, and 0 for m < 4.

    Why: write w_i = e_i u_i with iid fair signs e_i independent of the lines R u_i.  The
    layer is not injective iff some open half-plane through 0 holds >= m-1 rows, i.e. iff
    the sign vector e is within Hamming distance 1 of the sign vector s_j of one of the 2m
    arcs of directions cut out by the m lines.  Consecutive arcs differ in one sign, arcs two
    apart in two; so the 2m balls of radius 1 (m+1 points each) overlap exactly in the arcs'
    own vectors (each in 3 balls) and in one extra point per pair of arcs two apart (2m
    pairs, each point in 2 balls): the union has 2m(m+1) - 2*2m - 2m = 2m(m-2) points
    (m >= 4) out of 2^m.  Checked against a 20 000-sample Monte Carlo per m."""
    m = int(m)
    return 0.0 if m < 4 else 1.0 - m * (m - 2) / 2.0 ** (m - 1)


def depth_below_2_n2(W):
    """Independent check for n = 2, b = 0 (floating point, general position): the layer is
    injective iff every closed half-plane through 0 holds >= 2 rows.  The closed count is
    smallest at generic directions, i.e. between consecutive critical directions (those
    orthogonal to a row); evaluate one direction in each of those arcs."""
    th = np.arctan2(W[:, 1], W[:, 0])
    crit = np.sort(np.concatenate([th + np.pi / 2, th - np.pi / 2]) % (2 * np.pi))
    nxt = np.roll(crit, -1)
    nxt[-1] += 2 * np.pi
    mids = (crit + nxt) / 2
    X = np.stack([np.cos(mids), np.sin(mids)])
    counts = (W @ X >= 0).sum(axis=0)
    return bool(counts.min() < 2)


# ---------------------------------------------------------------------------- bookkeeping

def machine_facts():
    return _machine.machine_facts(
        SOURCE_HASHES, ("highspy",),
        "shared, noisy 2-core machine (other benchmarks ran alongside): "
        "seconds are indicative, verdicts are exact")


def summarise_point(n, c_nom, m, K, results):
    counts = {"injective": 0, "not_injective": 0, "unknown": 0, "timeout": 0, "error": 0}
    for r in results:
        s = r["status"]
        key = s if s in counts else ("error" if s.startswith("error") else "unknown")
        counts[key] += 1
    inj, no = counts["injective"], counts["not_injective"]
    undecided = K - inj - no
    N = inj + no
    lo, hi = wilson(inj, N)
    secs = [r["seconds"] for r in results if r["seconds"] is not None]
    imax = int(np.argmax([r["seconds"] or 0.0 for r in results]))
    rc = [(k, r["recheck"]) for k, r in enumerate(results) if r.get("recheck")]
    nodes = [r.get("nodes") for r in results if r.get("nodes") is not None]
    point = {
        "n": n, "m": m, "c": m / n, "c_nominal": c_nom, "seeds": K,
        "counts": counts,
        "decided": N,
        "p_injective": inj / N if N else None,
        "wilson95": [lo, hi],
        "p_bounds_with_unknowns": [inj / K, (inj + undecided) / K],
        "median_seconds": statistics.median(secs) if secs else None,
        "max_seconds": max(secs) if secs else None,
        "max_seconds_instance": {"k": imax, "rng_seed": seed_of(n, m, imax),
                                 "status": results[imax]["status"]},
        "median_nodes": statistics.median(nodes) if nodes else None,
        "max_nodes": max(nodes) if nodes else None,
        "undecided_instances": [{"k": k, "rng_seed": seed_of(n, m, k), "status": r["status"],
                                 "seconds": r["seconds"], "reason": r.get("reason"),
                                 "note": r.get("note")}
                                for k, r in enumerate(results) if r["status"] not in DECIDED],
        "rechecked": {"count": len(rc), "all_ok": all(v["ok"] for _, v in rc),
                      "failed": [{"k": k, "rng_seed": seed_of(n, m, k), **v}
                                 for k, v in rc if not v["ok"]],
                      "seconds_total": sum(v["seconds"] for _, v in rc)},
        # per instance, in seed order: i = injective, n = not injective, u = unknown,
        # t = hard timeout, e = error
        "verdicts": "".join({"injective": "i", "not_injective": "n", "unknown": "u",
                             "timeout": "t"}.get(r["status"], "e") for r in results),
        "seconds": [round(r["seconds"], 4) if r["seconds"] is not None else None
                    for r in results],
    }
    if n == 2:
        dis = []
        for k, r in enumerate(results):
            if r["status"] in DECIDED:
                ind = "not_injective" if depth_below_2_n2(instance(n, m, k)) else "injective"
                if ind != r["status"]:
                    dis.append({"k": k, "rng_seed": seed_of(n, m, k), "certify": r["status"],
                                "angular_sweep": ind})
        point["n2_angular_check_disagreements"] = dis
    _add_exact(point)
    return point


def _add_exact(point):
    if point["n"] == 2:
        pe = p_exact_n2(point["m"])
        lo, hi = point["wilson95"]
        point["p_exact"] = pe
        point["p_exact_in_wilson95"] = (lo is not None and lo <= pe <= hi)


def summarise_n(n, points):
    pts = sorted(points, key=lambda p: p["c"])
    pts = [p for p in pts if p["decided"] > 0]
    cs = [p["c"] for p in pts]
    ps = [p["p_injective"] for p in pts]
    Ns = [p["decided"] for p in pts]
    xs = [p["counts"]["injective"] for p in pts]
    iso = isotonic(ps, Ns) if pts else []
    lo, hi, none = bootstrap_c_half(cs, xs, Ns) if pts else (None, None, 0)
    out = {
        "n": n,
        "points": len(pts),
        "instances": sum(p["seeds"] for p in points),
        "undecided": sum(p["seeds"] - p["decided"] for p in points),
        "c_half": c_half_of(cs, ps),
        "c_half_crossings": [{"c": c, "direction": d} for c, d in crossings(cs, ps)],
        "c_half_monotone_fit": c_half_of(cs, iso),
        "c_half_monotone_bootstrap95": [lo, hi],
        "bootstrap_reps_without_crossing": none,
        "seconds_total": sum(sum(s for s in p["seconds"] if s is not None) for p in points),
        "max_seconds": max((p["max_seconds"] or 0.0) for p in points) if points else None,
    }
    if n == 2:
        out["c_half_exact"] = c_half_of(cs, [p_exact_n2(p["m"]) for p in pts])
        out["exact_outside_wilson95"] = [p["m"] for p in pts if not p.get("p_exact_in_wilson95")]
    return out


def save(data, out):
    for p in data["points"]:
        _add_exact(p)
    data["per_n"] = [summarise_n(n, [p for p in data["points"] if p["n"] == n])
                     for n in sorted({p["n"] for p in data["points"]})]
    rc = [p["rechecked"] for p in data["points"]]
    data["recheck_summary"] = {"count": sum(r["count"] for r in rc),
                               "all_ok": all(r["all_ok"] for r in rc)}
    data["undecided_total"] = sum(p["seeds"] - p["decided"] for p in data["points"])
    tmp = out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=1)
    os.replace(tmp, out)


# -------------------------------------------------------------------------------- plotting

def plot(data, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(15, 6), gridspec_kw={"width_ratios": [2.2, 1]})
    ns = sorted({p["n"] for p in data["points"]})
    cmap = plt.get_cmap("viridis")
    for j, n in enumerate(ns):
        pts = sorted([p for p in data["points"] if p["n"] == n and p["decided"] > 0],
                     key=lambda p: p["c"])
        if not pts:
            continue
        col = cmap(j / max(1, len(ns) - 1) * 0.9)
        c = np.array([p["c"] for p in pts])
        pr = np.array([p["p_injective"] for p in pts])
        lo = np.array([p["wilson95"][0] for p in pts])
        hi = np.array([p["wilson95"][1] for p in pts])
        K = max(p["seeds"] for p in pts)
        ax.errorbar(c, pr, yerr=[np.maximum(0, pr - lo), np.maximum(0, hi - pr)], color=col,
                    marker="o", ms=3.5, lw=1.3,
                    capsize=2, elinewidth=0.7, label=f"n = {n} (K = {K})")
        und = [p for p in pts if p["decided"] < p["seeds"]]
        if und:
            ax.scatter([p["c"] for p in und], [p["p_injective"] for p in und], s=80,
                       facecolors="none", edgecolors="red", zorder=5)
    if 2 in ns:
        mm = np.arange(4, 23)
        ax.plot(mm / 2, [p_exact_n2(m) for m in mm], color="k", ls=":", lw=1.2,
                label="n = 2 exact: 1 - m(m-2)/2^(m-1)")
    for x, lab, col, ls in REFERENCE_LINES:
        ax.axvline(x, color=col, ls=ls, lw=1.1)
        ax.text(x + 0.06, 0.78 if x < 5 else 0.3, lab, rotation=90, va="center", ha="left",
                fontsize=7.5, color=col)
    ax.axhline(0.5, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("c = m / n")
    ax.set_ylabel("P(x -> ReLU(Wx) injective)")
    ax.set_xlim(1.8, 11)
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("iid Gaussian W (m x n), b = 0: exact verdicts (dss.certify), "
                 "Wilson 95% bars", fontsize=10)
    ax.legend(loc="center", bbox_to_anchor=(0.79, 0.62), fontsize=8, framealpha=0.95)

    sm = [s for s in data["per_n"] if s["c_half"] is not None]
    if sm:
        nn = np.array([s["n"] for s in sm])
        ch = np.array([s["c_half"] for s in sm])
        ax2.plot(nn, ch, "o-", color="tab:blue", label="c_1/2, linear interpolation")
        mono = [(s["n"], s["c_half_monotone_fit"], s["c_half_monotone_bootstrap95"])
                for s in sm if s["c_half_monotone_fit"] is not None]
        if mono:
            x = np.array([t[0] for t in mono]) + 0.08
            y = np.array([t[1] for t in mono])
            lo = np.array([t[2][0] if t[2][0] is not None else t[1] for t in mono])
            hi = np.array([t[2][1] if t[2][1] is not None else t[1] for t in mono])
            ax2.errorbar(x, y, yerr=[np.maximum(0, y - lo), np.maximum(0, hi - y)], fmt="s", ms=4,
                         color="tab:orange",
                         capsize=3, label="monotone fit, bootstrap 95%")
    ex = [s for s in data["per_n"] if s.get("c_half_exact") is not None]
    if ex:
        ax2.plot([s["n"] for s in ex], [s["c_half_exact"] for s in ex], "k*", ms=9,
                 label="n = 2 exact (same grid)")
    for x, lab, col, ls in REFERENCE_LINES:
        ax2.axhline(x, color=col, ls=ls, lw=1.0, label=lab)
    ax2.set_xlabel("n")
    ax2.set_ylabel("c where P(injective) = 1/2")
    ax2.set_ylim(0, 11)
    if ns:
        ax2.set_xticks(ns)
    ax2.set_title("finite-n threshold vs asymptotic references", fontsize=10)
    ax2.legend(loc="lower right", fontsize=6.5)
    fig.suptitle(("PARTIAL RUN -- " if data.get("partial") else "")
                 + f"dsssolver exact injectivity, {data['machine']['date_utc'][:10]}",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(png, dpi=130)
    plt.close(fig)


# ------------------------------------------------------------------------------------ main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="n = 2..6, coarse grid, 20 seeds (under a minute)")
    ap.add_argument("--n", type=int, nargs="+", help="values of n (default 2..9)")
    ap.add_argument("--c", type=float, nargs="+", help="grid of c (default 2..10)")
    ap.add_argument("--seeds", type=int, help="K seeds per point, for every n")
    ap.add_argument("--time-limit", type=float, default=60.0, help="per instance, seconds")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--out", help="JSON path (the PNG goes beside it)")
    ap.add_argument("--replot", action="store_true",
                    help="no runs: recompute the summaries and the PNG of an existing JSON")
    args = ap.parse_args(argv)

    ns = args.n or ([2, 3, 4, 5, 6] if args.quick else [2, 3, 4, 5, 6, 7, 8, 9])
    cs = args.c or (QUICK_GRID if args.quick else FULL_GRID)
    def K_of(n):
        if args.seeds:
            return args.seeds
        return QUICK_SEEDS if args.quick else FULL_SEEDS.get(n, 30)
    out = args.out or os.path.join(
        RESULTS, "gaussian_threshold.quick.json" if args.quick else "gaussian_threshold.json")
    png = os.path.splitext(out)[0] + ".png"
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    if args.replot:
        with open(out) as fh:
            data = json.load(fh)
        data["replotted_utc"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds")
        save(data, out)
        plot(data, png)
        for s in data["per_n"]:
            log(f"n={s['n']}: c_1/2 = {s['c_half']}, monotone {s['c_half_monotone_fit']} "
                f"{s['c_half_monotone_bootstrap95']}"
                + (f", exact {s['c_half_exact']}" if "c_half_exact" in s else ""))
        log(f"rewrote {out} and {png}")
        return data

    data = {
        "benchmark": "gaussian_threshold",
        "argv": sys.argv[1:] if argv is None else list(argv),
        "partial": True,
        "machine": machine_facts(),
        "config": {
            "n": ns, "c_grid": cs, "seeds": {str(n): K_of(n) for n in ns},
            "time_limit": args.time_limit, "hard_wall_limit": args.time_limit + 60.0,
            "jobs": args.jobs,
            "instance": "numpy.random.default_rng(1_000_000*n + 1000*m + k)"
                        ".standard_normal((m, n)), b = 0, m = round(c*n) "
                        "(repeated m at the same n skipped), k = 0..K-1; c = m/n",
            "recheck": f"dss.check(res, W) on a fixed random {RECHECK_FRACTION:.0%} of decided "
                       "instances: numpy.random.default_rng([7, n, m, k]).random() < 0.05",
            "p_injective": "injective / decided; Wilson 95% interval over the decided; "
                           "p_bounds_with_unknowns = [inj/K, (inj+undecided)/K]",
            "c_half": "first upward crossing of 1/2 by linear interpolation in c = m/n; "
                      "also of the weighted isotonic fit, with a parametric bootstrap "
                      "(2000 reps) 95% interval",
            "reference_lines": [{"c": x, "label": lab} for x, lab, _, _ in REFERENCE_LINES],
        },
        "points": [],
        "per_n": [],
    }

    def _term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, _term)  # kill <pid>: stop and write what finished

    workers = [Worker() for _ in range(max(1, args.jobs))]
    t0 = time.perf_counter()
    log(f"gaussian_threshold: n = {ns}, {len(cs)} c values, time limit {args.time_limit} s, "
        f"{args.jobs} job(s) -> {out}")
    try:
        for n in ns:
            K = K_of(n)
            for c_nom, m in grid_points(n, cs):
                tp = time.perf_counter()
                results = run_point(workers, n, m, K, args.time_limit)
                pt = summarise_point(n, c_nom, m, K, results)
                data["points"].append(pt)
                data["elapsed_seconds"] = time.perf_counter() - t0
                save(data, out)
                cnt = pt["counts"]
                extra = ""
                if pt["undecided_instances"]:
                    extra += f"  UNDECIDED {[u['k'] for u in pt['undecided_instances']]}"
                if not pt["rechecked"]["all_ok"]:
                    extra += "  RECHECK FAILED"
                if pt.get("n2_angular_check_disagreements"):
                    extra += "  N2 CHECK DISAGREES"
                lo, hi = pt["wilson95"]
                log(f"n={n} m={m:3d} c={m / n:5.2f}  inj {cnt['injective']:3d} "
                    f"not {cnt['not_injective']:3d} und {K - pt['decided']}  "
                    f"P={pt['p_injective'] if pt['p_injective'] is not None else float('nan'):.3f}"
                    f" [{lo if lo is not None else float('nan'):.3f},"
                    f"{hi if hi is not None else float('nan'):.3f}]  "
                    f"med {pt['median_seconds']:.3f}s max {pt['max_seconds']:.2f}s  "
                    f"({time.perf_counter() - tp:.1f}s, total {time.perf_counter() - t0:.0f}s)"
                    + extra)
            s = [x for x in data["per_n"] if x["n"] == n][0]
            log(f"== n={n}: c_1/2 = {s['c_half']}, monotone {s['c_half_monotone_fit']} "
                f"{s['c_half_monotone_bootstrap95']}")
            plot(data, png)
        data["partial"] = False
    except KeyboardInterrupt:
        log("interrupted: writing what finished (partial)")
    finally:
        for w in workers:
            w.close()
        data["elapsed_seconds"] = time.perf_counter() - t0
        save(data, out)
        plot(data, png)
    log(f"done in {data['elapsed_seconds']:.0f} s; recheck {data['recheck_summary']}; "
        f"undecided {data['undecided_total']}; wrote {out} and {png}")
    return data


if __name__ == "__main__":
    main()
