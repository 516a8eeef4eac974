"""Statistics and plots for ``threshold.py``: P(injective) curves, c_1/2, extrapolations.

Every trial carries ``m_lo`` (its first ``m_lo`` rows are not injective, with a witness)
and ``m_hi`` (its first ``m_hi`` rows are injective, with a proof; None if never shown).
By monotonicity the prefix of m rows is *settled* injective when ``m_hi <= m`` and settled
not injective when ``m_lo >= m``; otherwise (a censored trial) it is unsettled and left out
of P, which is then reported with the bounds that counting every unsettled trial on either
side would give.  Nothing here guesses a verdict.

- P(m) = #inj / #settled with a Wilson 95 % interval (pointwise), c = m / n.
- c_1/2: where P crosses 1/2, by linear interpolation between consecutive m (the median
  of m*/n, interpolated); 95 % interval by the bootstrap over trials.
- Extrapolation in n under several models, each a weighted least-squares fit over
  n >= 3 (n with at least 50 trials) with its chi^2 / dof: the value at n = infinity depends
  on the model.
- n = 2: the exact P = 1 - m(m-2)/2^(m-1) (any centrally symmetric law in general
  position) beside the estimate.
"""
from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054
REFERENCES = [
    (3.4, "seed Thm 2: P -> 0 below 3.4"),
    (6.698, "Maillard et al. 2023: 6.698 (non-rigorous)"),
    (7.6477, "Maillard et al. 2023: rigorous upper bound 7.6477"),
    (10.5, "seed Thm 2: P -> 1 above 10.5"),
]
_REF_STYLE = {3.4: ("tab:red", "--"), 6.698: ("k", "-"), 7.6477: ("tab:gray", "-."),
              10.5: ("tab:green", "--")}
MODELS = {
    "c_inf - a/n": lambda n: [np.ones_like(n), -1 / n],
    "c_inf - a/sqrt(n)": lambda n: [np.ones_like(n), -1 / np.sqrt(n)],
    "c_inf - a/n - b/n^2": lambda n: [np.ones_like(n), -1 / n, -1 / n ** 2],
    "c_inf - a log(n)/n": lambda n: [np.ones_like(n), -np.log(n) / n],
}
FIT_N_MIN = 3
FIT_MIN_TRIALS = 50  # a bootstrap sd from fewer trials is too rough to weight a fit with
STATEMENT = ("The extrapolation to n -> infinity is model-dependent: each model below fits "
             "the finite-n c_1/2 values, and the models disagree on c_inf by more than their "
             "own error bars where their fit quality (chi2/dof) is similar.  The data "
             "measure c_1/2 at the n listed; they do not determine the limit.")


def p_exact_n2(m):
    """Exact P(injective) for n = 2, b = 0, iid rows from a centrally symmetric law in
    general position: ``1 - m(m-2)/2^(m-1)`` for m >= 4 and 0 below.

    Why: write w_i = e_i u_i with iid fair signs e_i independent of the lines R u_i.  The
    layer is not injective iff some open half-plane through 0 holds >= m-1 rows, i.e. iff
    the sign vector e is within Hamming distance 1 of the sign vector s_j of one of the 2m
    arcs of directions cut out by the m lines.  Consecutive arcs differ in one sign, arcs
    two apart in two; so the 2m balls of radius 1 (m+1 points each) overlap exactly in the
    arcs' own vectors (each in 3 balls) and in one extra point per pair of arcs two apart
    (2m pairs, each point in 2 balls): the union has 2m(m+1) - 2*2m - 2m = 2m(m-2) points
    (m >= 4) out of 2^m.

    Examples
    --------
    >>> p_exact_n2(3), p_exact_n2(4), p_exact_n2(6)
    (0.0, 0.0, 0.25)
    """
    m = int(m)
    return 0.0 if m < 4 else 1.0 - m * (m - 2) / 2.0 ** (m - 1)


def wilson(x, N, z=Z95):
    """Wilson score interval for x successes in N trials; (None, None) when N = 0.

    Examples
    --------
    >>> [round(v, 3) for v in wilson(5, 10)]
    [0.237, 0.763]
    """
    if N == 0:
        return None, None
    p = x / N
    den = 1 + z * z / N
    centre = (p + z * z / (2 * N)) / den
    half = z / den * math.sqrt(p * (1 - p) / N + z * z / (4 * N * N))
    return (0.0 if x == 0 else max(0.0, centre - half)), (1.0 if x == N else min(1.0, centre + half))


# ---------------------------------------------------------------------- curves and c_1/2

def _bounds(trials):
    lo = np.array([t["m_lo"] for t in trials], dtype=float)
    hi = np.array([t["m_hi"] if t["m_hi"] is not None else np.inf for t in trials])
    return lo, hi


def _counts(lo, hi, ms):
    """Per m in ``ms``: settled injective, settled not injective."""
    inj = (hi[None, :] <= ms[:, None]).sum(axis=1)
    no = (lo[None, :] >= ms[:, None]).sum(axis=1)
    return inj, no


def _c_half(ms, p, n):
    """First upward crossing of 1/2 of P over m, interpolated linearly, as c = m / n."""
    for i in range(1, len(ms)):
        if p[i - 1] < 0.5 <= p[i]:
            return float((ms[i - 1] + (0.5 - p[i - 1]) / (p[i] - p[i - 1])) / n)
    return None


def _m_range(lo, hi):
    top = np.max(np.where(np.isfinite(hi), hi, lo + 1))
    return np.arange(1, int(top) + 2)


def curve(trials, n):
    """P(injective) per m over the trials of one (law, n): list of point dicts."""
    lo, hi = _bounds(trials)
    ms = _m_range(lo, hi)
    inj, no = _counts(lo, hi, ms)
    N = len(trials)
    out = []
    for m, a, b in zip(ms, inj, no):
        w = wilson(int(a), int(a + b))
        out.append({"m": int(m), "c": m / n, "injective": int(a), "not_injective": int(b),
                    "unsettled": int(N - a - b), "p": a / (a + b) if a + b else None,
                    "wilson95": list(w), "p_bounds": [a / N, (N - b) / N]})
    return out


def bootstrap_c_half(trials, n, reps=2000, seed=12345):
    """Percentile 95 % interval and sd of c_1/2, resampling trials with replacement."""
    lo, hi = _bounds(trials)
    ms = _m_range(lo, hi)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(trials), size=(reps, len(trials)))
    vals = []
    for row in idx:  # reps x (m grid) counting, cheap for the sizes here
        inj, no = _counts(lo[row], hi[row], ms)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(inj + no > 0, inj / np.maximum(inj + no, 1), np.nan)
        c = _c_half(ms, p, n)
        if c is not None:
            vals.append(c)
    if len(vals) < 0.9 * reps:
        return None
    v = np.array(vals)
    return {"ci95": [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))],
            "sd": float(v.std(ddof=1)), "reps": reps, "undefined": reps - len(vals)}


def distribution(trials, n):
    """Quantiles, mean and sd of m*/n over the uncensored trials."""
    v = np.array([t["m_star"] / n for t in trials if t["m_star"] is not None])
    if not len(v):
        return None
    q = np.percentile(v, [5, 25, 50, 75, 95])
    hist = np.bincount([t["m_star"] for t in trials if t["m_star"] is not None])
    return {"quantiles_5_25_50_75_95": [float(x) for x in q], "mean": float(v.mean()),
            "sd": float(v.std(ddof=1)) if len(v) > 1 else None,
            "m_star_histogram": {str(m): int(k) for m, k in enumerate(hist) if k}}


def n2_exact_check(trials, pts):
    """The estimate against the exact n = 2 formula, with the DKW 99.9 % band."""
    N = len(trials)
    eps = math.sqrt(math.log(2 / 1e-3) / (2 * N)) if N else None
    rows, worst = [], 0.0
    for p in pts:
        if p["p"] is None:
            continue
        pe = p_exact_n2(p["m"])
        worst = max(worst, abs(p["p"] - pe))
        rows.append({"m": p["m"], "p_exact": pe, "p_hat": p["p"],
                     "in_wilson95": bool(p["wilson95"][0] <= pe <= p["wilson95"][1])})
    ms = np.arange(1, 40)
    c_exact = _c_half(ms, np.array([p_exact_n2(m) for m in ms]), 2)
    return {"c_half_exact": c_exact, "max_abs_deviation": worst, "dkw_999_band": eps,
            "within_dkw_band": bool(eps is not None and worst <= eps), "points": rows}


def summarise_group(trials, n):
    """Everything about one (law, n)."""
    pts = curve(trials, n)
    ms = np.array([p["m"] for p in pts])
    p = np.array([np.nan if q["p"] is None else q["p"] for q in pts])
    out = {"n": n, "trials": len(trials),
           "censored": sum(t["m_star"] is None for t in trials),
           "censored_trials": [{"seed": t["seed"], "m_lo": t["m_lo"], "m_hi": t["m_hi"],
                                "unknown_m": t.get("unknown_m")}
                               for t in trials if t["m_star"] is None],
           "c_half": _c_half(ms, p, n), "c_half_bootstrap": bootstrap_c_half(trials, n),
           "m_star_over_n": distribution(trials, n),
           "seconds_total": float(sum(t["seconds"] for t in trials)),
           "seconds_median": float(np.median([t["seconds"] for t in trials])),
           "seconds_max": float(max(t["seconds"] for t in trials)),
           "certify_calls": int(sum(t["calls"] for t in trials)),
           "curve": pts}
    if n == 2:
        out["n2_exact"] = n2_exact_check(trials, pts)
    return out


# -------------------------------------------------------------------------- extrapolation

def fit_models(per_n, n_min=FIT_N_MIN):
    """Weighted least-squares fits of c_1/2(n) under ``MODELS`` (weights 1/sd^2)."""
    pts = [(s["n"], s["c_half"], s["c_half_bootstrap"]["sd"]) for s in per_n
           if s["n"] >= n_min and s["c_half"] is not None and s["c_half_bootstrap"]
           and s.get("trials", FIT_MIN_TRIALS) >= FIT_MIN_TRIALS
           and s["c_half_bootstrap"]["sd"] > 0]
    out = {}
    if not pts:
        return out
    n = np.array([p[0] for p in pts], dtype=float)
    y = np.array([p[1] for p in pts])
    sd = np.array([p[2] for p in pts])
    for name, design in MODELS.items():
        X = np.array(design(n)).T
        k = X.shape[1]
        if len(n) <= k:
            continue
        Xw, yw = X / sd[:, None], y / sd
        beta, *_ = np.linalg.lstsq(Xw, yw, rcond=None)
        chi2 = float(((Xw @ beta - yw) ** 2).sum())
        dof = len(n) - k
        cov = np.linalg.inv(Xw.T @ Xw) * max(1.0, chi2 / dof)
        out[name] = {"c_inf": float(beta[0]), "c_inf_se": float(math.sqrt(cov[0, 0])),
                     "params": [float(b) for b in beta], "chi2": chi2, "dof": dof,
                     "chi2_per_dof": chi2 / dof, "aic": chi2 + 2 * k,
                     "n_used": [int(v) for v in n]}
    return out


# ------------------------------------------------------------------------------ summary

def summarise(records):
    """The analysis of all trial records: per law, per n, the fits and the statement."""
    groups = {}
    for r in records:
        groups.setdefault(r["law"], {}).setdefault(r["n"], []).append(r)
    laws = {}
    for law, by_n in groups.items():
        per_n = [summarise_group(sorted(ts, key=lambda t: t["seed"]), n)
                 for n, ts in sorted(by_n.items())]
        laws[law] = {"per_n": per_n, "fits": fit_models(per_n)}
    return {"laws": laws, "extrapolation_statement": STATEMENT,
            "references": [{"c": c, "label": lab} for c, lab in REFERENCES]}


def headline(summary):
    """Short human lines: c_1/2 per (law, n) and the fits."""
    out = []
    for law, d in summary["laws"].items():
        for s in d["per_n"]:
            b = s["c_half_bootstrap"]
            ci = f"[{b['ci95'][0]:.3f}, {b['ci95'][1]:.3f}]" if b else "[-]"
            ch = f"{s['c_half']:.3f}" if s["c_half"] is not None else "-"
            out.append(f"{law:18s} n={s['n']:2d} trials={s['trials']:5d} "
                       f"censored={s['censored']:3d} c_1/2={ch} {ci}")
        for name, f in d["fits"].items():
            out.append(f"{law:18s} fit {name:22s} c_inf={f['c_inf']:.2f} +- "
                       f"{f['c_inf_se']:.2f} chi2/dof={f['chi2_per_dof']:.2f}")
    return out


# -------------------------------------------------------------------------------- plots

def _refs(ax, horizontal=False):
    for c, lab in REFERENCES:
        col, ls = _REF_STYLE[c]
        (ax.axhline if horizontal else ax.axvline)(c, color=col, ls=ls, lw=1.0, label=lab)


def _plot_curves(ax, per_n):
    cmap = __import__("matplotlib").colormaps["viridis"]
    for i, s in enumerate(per_n):
        pts = [p for p in s["curve"] if p["p"] is not None]
        c = np.array([p["c"] for p in pts])
        col = cmap(i / max(1, len(per_n) - 1))
        ax.fill_between(c, [p["wilson95"][0] for p in pts], [p["wilson95"][1] for p in pts],
                        color=col, alpha=0.25, step="post", lw=0)
        ax.step(c, [p["p"] for p in pts], where="post", color=col, lw=1.3,
                label=f"n = {s['n']} ({s['trials']} trials)")
    if per_n and per_n[0]["n"] == 2:
        mm = np.arange(2, 30)
        ax.step(mm / 2, [p_exact_n2(m) for m in mm], where="post", color="k", ls=":", lw=1.2,
                label="n = 2 exact")
    _refs(ax)
    ax.axhline(0.5, color="0.8", lw=0.8, zorder=0)
    ax.set(xlim=(1.5, 11), ylim=(-0.02, 1.02), xlabel="c = m / n",
           ylabel="P(first m rows injective)",
           title="Gaussian rows: P(injective), Wilson 95% bands")
    ax.legend(fontsize=6, loc="lower right", ncol=2)


def _plot_distributions(ax, per_n):
    ok = [s for s in per_n if s["m_star_over_n"]]
    data = []
    for s in ok:
        h = s["m_star_over_n"]["m_star_histogram"]
        data.append(np.repeat([int(m) / s["n"] for m in h], [h[m] for m in h]))
    if data:
        ax.violinplot(data, positions=[s["n"] for s in ok], widths=0.8, showmedians=True)
    _refs(ax, horizontal=True)
    ax.set(xlabel="n", ylabel="m*(W) / n", ylim=(1.5, 11),
           title="Gaussian rows: distribution of m*/n (uncensored trials)")


def _plot_extrapolation(ax, per_n, fits):
    ok = [s for s in per_n if s["c_half"] is not None]
    x = np.array([1 / s["n"] for s in ok])
    y = np.array([s["c_half"] for s in ok])
    lo = np.array([s["c_half_bootstrap"]["ci95"][0] if s["c_half_bootstrap"] else v
                   for s, v in zip(ok, y)])
    hi = np.array([s["c_half_bootstrap"]["ci95"][1] if s["c_half_bootstrap"] else v
                   for s, v in zip(ok, y)])
    ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt="o", color="tab:blue", capsize=3,
                label="c_1/2, bootstrap 95%")
    nn = np.linspace(1.0 / max(FIT_N_MIN, 1), 1e-3, 200)
    for (name, f), col in zip(fits.items(), ["tab:orange", "tab:purple", "tab:brown",
                                              "tab:olive"]):
        X = np.array(MODELS[name](1 / nn)).T
        ax.plot(nn, X @ np.array(f["params"]), color=col, lw=1,
                label=f"{name}: c_inf = {f['c_inf']:.2f} +- {f['c_inf_se']:.2f}, "
                      f"chi2/dof {f['chi2_per_dof']:.1f}")
    _refs(ax, horizontal=True)
    ax.set(xlim=(0, 0.52), ylim=(2, 11), xlabel="1 / n", ylabel="c_1/2",
           title="c_1/2 against 1/n; fits are model-dependent")
    ax.legend(fontsize=5.5, loc="lower left")


def _plot_laws(ax, laws):
    for k, (law, d) in enumerate(sorted(laws.items())):
        ok = [s for s in d["per_n"] if s["c_half"] is not None]
        if not ok:
            continue
        n = np.array([s["n"] for s in ok]) + 0.08 * (k - 2)
        y = np.array([s["c_half"] for s in ok])
        ci = [s["c_half_bootstrap"]["ci95"] if s["c_half_bootstrap"] else [v, v]
              for s, v in zip(ok, y)]
        ax.errorbar(n, y, yerr=[y - [c[0] for c in ci], [c[1] for c in ci] - y], fmt="o-",
                    ms=3, capsize=2, lw=1, label=law)
    ax.set(xlabel="n", ylabel="c_1/2", title="c_1/2 by row law (bootstrap 95%)")
    if ax.get_legend_handles_labels()[0]:  # no laws with an estimate yet: no empty legend
        ax.legend(fontsize=7)


def plot(summary, png):
    """The four-panel figure: curves, m*/n distributions, extrapolation, row laws."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(2, 2, figsize=(14, 10))
    g = summary["laws"].get("gaussian", {"per_n": [], "fits": {}})
    _plot_curves(axs[0, 0], g["per_n"])
    _plot_distributions(axs[0, 1], g["per_n"])
    _plot_extrapolation(axs[1, 0], g["per_n"], g["fits"])
    _plot_laws(axs[1, 1], summary["laws"])
    fig.suptitle("dsssolver: injectivity threshold of x -> ReLU(Wx), nested rows, "
                 "Monte Carlo with an exact verdict per instance", fontsize=11)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def markdown_table(summary, law="gaussian"):
    """The README's table: per n, trials, censored, c_1/2 with its interval, m*/n quartiles."""
    d = summary["laws"].get(law)
    if not d:
        return ""
    rows = ["| n | trials | censored | c_1/2 [bootstrap 95%] | m*/n: 5% / 50% / 95% | "
            "median s / trial |", "|---|---|---|---|---|---|"]
    for s in d["per_n"]:
        b, q = s["c_half_bootstrap"], s["m_star_over_n"]
        ci = f" [{b['ci95'][0]:.2f}, {b['ci95'][1]:.2f}]" if b else ""
        ch = f"{s['c_half']:.2f}{ci}" if s["c_half"] is not None else "–"
        qs = (f"{q['quantiles_5_25_50_75_95'][0]:.2f} / {q['quantiles_5_25_50_75_95'][2]:.2f}"
              f" / {q['quantiles_5_25_50_75_95'][4]:.2f}") if q else "–"
        rows.append(f"| {s['n']} | {s['trials']} | {s['censored']} | {ch} | {qs} | "
                    f"{s['seconds_median']:.2f} |")
    return "\n".join(rows)
