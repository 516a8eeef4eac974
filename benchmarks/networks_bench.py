"""Networks certified layer by layer and end to end, and structured layers at scale.

Runs, in one process and one after the other (times are wall-clock on a shared machine):

* Corollary 2 MLPs built exactly (``dss.construct.corollary2_mlp``), e.g. 32-80-200-500;
* Corollary 3 networks (expansive blocks and random projections), decided end to end;
* random Gaussian generators 20-60-784 and 8-16-32 (and a Gaussian 2-layer net with n = 2 end to end);
* the seed's equation (4) network and the Theorem 5 augmentation;
* structured ``[B; -DB; M]`` layers (m = 2.5 n) for n = 100 .. 1000: certify + independent check.

Writes ``benchmarks/results/networks_bench.json`` and ``networks_bench.png``.

    python benchmarks/networks_bench.py            # the full table
    python benchmarks/networks_bench.py --quick    # a smoke run
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import dsssolver as dss  # noqa: E402
from benchmarks._machine import machine_facts, preimport_and_hash  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _net_row(name, net, **kw):
    t = time.perf_counter()
    res = dss.certify_network(net, **kw)
    sec = time.perf_counter() - t
    row = {"network": name, "status": res.status, "decided_by": res.decided_by,
           "first_failure": None if res.first_failure is None else str(res.first_failure),
           "layers": [{"layer": str(v.index), "shape": list(v.shape), "activation": v.activation,
                       "domain": "R^n" if v.domain is None else (v.domain if isinstance(v.domain, str)
                                                                   else "polyhedron"),
                       "status": v.status, "seconds": round(v.seconds, 4)} for v in res.layers],
           "seconds": round(sec, 4), "check_seconds": round(res.stats.get("check_seconds", 0.0), 4),
           "checked": res.checked, "message": res.message}
    if res.end_to_end is not None:
        row["end_to_end"] = {k: v for k, v in res.end_to_end.stats.items()
                             if isinstance(v, (int, float, str))}
    print(f"{name:38s} {res.status:14s} by {res.decided_by or '-':15s} {sec:8.3f} s", flush=True)
    return row


def networks(quick):
    rng = np.random.default_rng(0)
    rows = []
    widths = [[8, 20, 50]] if quick else [[8, 20, 50], [32, 80, 200, 500]]
    for w in widths:
        for bias in (False, True):
            net = dss.construct.corollary2_mlp(w, seed=0, bias=bias)
            rows.append(_net_row(f"Corollary 2 MLP {'-'.join(map(str, w))}{' +b' if bias else ''}", net))
    for w in ([[1, 4, 3, 6, 3]] if quick else [[1, 4, 3, 6, 3], [1, 6, 3, 8, 4], [2, 6, 5]]):
        net = dss.construct.corollary3_network(w, seed=1)
        rows.append(_net_row(f"Corollary 3 net {'-'.join(map(str, w))}", net, time_limit=300))
    for w in ([[8, 16, 32]] if quick else [[20, 60, 784], [8, 16, 32]]):
        net = [rng.standard_normal((b, a)) for a, b in zip(w, w[1:])]
        rows.append(_net_row(f"Gaussian generator {'-'.join(map(str, w))}", net, time_limit=120))
    W = np.vstack([np.eye(3), -np.eye(3)])
    rows.append(_net_row("equation (4): [I; -I] then I_6", [W, np.eye(6)], time_limit=300))
    small = [dss.construct.expansive_layer(2, 5, seed=3)[0], rng.integers(-1, 2, size=(4, 5)).astype(float)]
    rows.append(_net_row("expansive 2-5 then integer 4x5", small, time_limit=300))
    G, err = dss.construct.theorem5_augment([rng.standard_normal((3, 4)), rng.standard_normal((2, 3))],
                                            2.0 ** -10, box=(-np.ones(4), np.ones(4)))
    row = _net_row("Theorem 5 augmentation of 4-3-2", G)
    row["approximation_error"] = err
    rows.append(row)
    return rows


def structured(quick):
    out = []
    for n in ([100, 200] if quick else [100, 200, 400, 600, 800, 1000]):
        m = int(2.5 * n)
        W, b = dss.construct.expansive_layer(n, m, seed=n, shuffle=True)
        t = time.perf_counter()
        res = dss.certify(W, b)
        t1 = time.perf_counter()
        ok = dss.check(res, W, b)
        t2 = time.perf_counter()
        out.append({"n": n, "m": m, "status": res.status, "path": res.stats.get("path"),
                    "certify_seconds": round(t1 - t, 4), "inner_check_seconds":
                        round(res.stats.get("check_seconds", 0.0), 4),
                    "independent_check_seconds": round(t2 - t1, 4), "checked": bool(ok)})
        print(f"[B; -DB; M] n = {n:5d} m = {m:5d}: {res.status}, certify {t1 - t:.2f} s, "
              f"check {t2 - t1:.2f} s", flush=True)
    return out


def plot(doc, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, c) = plt.subplots(1, 2, figsize=(12, 4.5))
    st = doc["structured"]
    ns = [r["n"] for r in st]
    a.plot(ns, [r["certify_seconds"] for r in st], "o-", label="certify (incl. its own check)")
    a.plot(ns, [r["independent_check_seconds"] for r in st], "s-", label="dss.check afterwards")
    a.plot(ns, [r["certify_seconds"] + r["independent_check_seconds"] for r in st], "k--", label="total")
    a.axhline(10, color="r", lw=0.8, ls=":")
    a.set_xlabel("n (m = 2.5 n)")
    a.set_ylabel("seconds")
    a.set_title("exact [B; -DB; M] layers: antiparallel-pair proofs")
    a.legend()
    nets = doc["networks"]
    names = [r["network"] for r in nets]
    secs = [max(r["seconds"], 1e-3) for r in nets]
    colors = {"injective": "tab:green", "not_injective": "tab:red", "unknown": "tab:gray"}
    c.barh(range(len(nets)), secs, color=[colors[r["status"]] for r in nets])
    c.set_yticks(range(len(nets)))
    c.set_yticklabels([f"{nm} [{r['decided_by'] or 'unknown'}]" for nm, r in zip(names, nets)], fontsize=7)
    c.set_xscale("log")
    c.set_xlabel("seconds (green injective, red not injective, grey unknown)")
    c.set_title("certify_network")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    hashes = preimport_and_hash()
    doc = {"machine": machine_facts(hashes, note="2 cores shared with other jobs; times are noisy"),
           "networks": networks(args.quick), "structured": structured(args.quick)}
    os.makedirs(RESULTS, exist_ok=True)
    stem = "networks_bench" + (".quick" if args.quick else "")
    with open(os.path.join(RESULTS, stem + ".json"), "w") as fh:
        json.dump(doc, fh, indent=1)
    plot(doc, os.path.join(RESULTS, stem + ".png"))
    print(f"wrote {os.path.join(RESULTS, stem + '.json')}")


if __name__ == "__main__":
    main()
