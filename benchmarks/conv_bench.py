"""Convolutional layers: the seed's injective DCGAN certified layer by layer, and small signals
where the full operator fits the dense certifier, for comparison.

Part 1 (seed Section 4 sizes): latent 256 -> 512x4x4 -> 256x8x8 -> 128x16x16 -> 64x32x32 ReLU
layers with [C; -s^2 C] filters (s^2 = 1/2, exact in floating point), then a ConvTranspose2d to
3x64x64 with tanh.  Every ReLU layer is certified by `certify_conv_pairs` (exact pairs + the C
part's rank modulo p); the generator is read from a torch nn.Sequential when torch is installed,
else from the numpy description.  The same generator with s^2 = 0.7 (rounded) is reported too.

Part 2 (small signals): [C; -s^2 C] layers whose full operator fits `dss.certify`: the structural
certificate, Theorem 4 (`certify_conv`) and the dense certifier on the full operator, side by side,
with verdicts and times.

    python benchmarks/conv_bench.py            # about 8 minutes on a shared 2-core machine
    python benchmarks/conv_bench.py --quick    # small generator only

Writes benchmarks/results/conv_bench.json and conv_bench.png.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import _machine  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

import dsssolver as dss  # noqa: E402
from dsssolver.conv import ConvLayer, StridedConv, certify_conv, certify_conv_pairs  # noqa: E402
from dsssolver.conv.dcgan import certify_network_pairs, injective_dcgan, to_torch  # noqa: E402


def generator_rows(gen_kwargs, use_torch, label):
    """Certify each ReLU layer (search), then have the independent checker re-verify it.

    ``seconds`` is the search alone; ``checker_seconds`` the checker's own re-verification
    (``dsssolver/verify/conv.py``: exact pairs, the C part's rank modulo a random prime).
    """
    gen = injective_dcgan(**gen_kwargs)
    t0 = time.perf_counter()
    if use_torch:
        net = to_torch(gen)
        results = certify_network_pairs(net, gen[0][0].input_shape, independent_check=True)
    else:
        results = certify_network_pairs(gen, independent_check=True)
    total = time.perf_counter() - t0
    rows = []
    for k, ((layer, act), res) in enumerate(zip(gen, results), start=1):
        chk = res.stats.get("checker") or {}
        secs = res.stats["seconds"] - chk.get("seconds", 0.0)
        rows.append({"layer": k, "input": list(layer.input_shape), "output": list(layer.output_shape),
                     "activation": act, "m": res.stats.get("m"), "n": res.stats.get("n"),
                     "status": res.status, "rank_method": res.stats.get("rank_method"),
                     "prime": res.stats.get("prime"), "pairs": res.stats.get("pairs"),
                     "near_pairs": res.stats.get("near_pairs"),
                     "seconds": round(secs, 3),
                     "cpu_seconds": round(res.stats["cpu_seconds"], 3),
                     "checker_accepted": chk.get("ok"), "checker_seconds": round(chk.get("seconds", 0), 3),
                     "checker_rank_method": chk.get("rank_method"), "checker_prime": chk.get("prime"),
                     "checker_message": chk.get("message"),
                     "loadavg_after": [round(v, 2) for v in os.getloadavg()], "message": res.message})
        print(f"{label} layer {k}: {rows[-1]['m']}x{rows[-1]['n']} {res.status} search "
              f"{secs:.2f} s; independent check {chk.get('ok')} {chk.get('seconds', 0):.2f} s "
              f"({chk.get('rank_method')}); load {os.getloadavg()[0]:.1f}", flush=True)
    return {"label": label, "read_from": "torch nn.Sequential" if use_torch else "numpy",
            "generator": gen_kwargs, "total_seconds_with_checks": round(total, 3), "layers": rows}


def dense_first_layer(gen_kwargs, time_limit):
    """The generator's first ReLU layer (the only one whose dense matrix is small) through
    dss.certify on its full dense operator, for comparison with the structural certificate."""
    layer = injective_dcgan(**gen_kwargs)[0][0]
    W, b = layer.matrix()
    t = time.perf_counter()
    res = dss.certify(W.toarray(), b, time_limit=time_limit)
    secs = time.perf_counter() - t
    print(f"dense dss.certify, first layer {W.shape}: {res.status} {secs:.2f} s", flush=True)
    # the pair argument written as evidence for the independent checker, and its standalone check
    t = time.perf_counter()
    pairs = certify_conv_pairs(layer, certificate_limit=W.shape[1])
    t_pairs = time.perf_counter() - t
    t = time.perf_counter()
    ok = bool(pairs.full is not None and dss.check(pairs.full, W.toarray(), b))
    t_check = time.perf_counter() - t
    print(f"pair proof for the checker: {pairs.status}, accepted {ok}, {t_pairs:.2f} s + "
          f"standalone check {t_check:.2f} s", flush=True)
    return {"shape": list(W.shape), "n": W.shape[1], "status": res.status,
            "seconds": round(secs, 3), "message": res.message,
            "pair_proof": {"status": pairs.status, "accepted_by_check": ok,
                           "seconds_with_proof": round(t_pairs, 3),
                           "standalone_check_seconds": round(t_check, 3)}}


def small_layers(rng):
    """[C; -s^2 C] layers whose full operator fits the dense certifier."""
    out = []
    for N in (4, 8, 16, 32):  # 1-D, 2 input channels, kernel 3, zero padding 1
        C = rng.integers(-3, 4, size=(2, 2, 3)).astype(float)
        out.append(("conv1d zeros", ConvLayer(np.concatenate([C, -0.5 * C]), None, (2, N), 1)))
    for N in (4, 8, 16):  # 1-D, 1 input channel, 3 pairs of width-2 kernels: Theorem 4 can pass
        C = rng.integers(-3, 4, size=(3, 1, 2)).astype(float)
        out.append(("conv1d 3 pairs", ConvLayer(np.concatenate([C, -0.5 * C]), None, (1, N), 1)))
    for N in (3, 5, 7):  # 2-D periodic, 1 input channel, kernel 2x2
        C = rng.integers(-3, 4, size=(2, 1, 2, 2)).astype(float)
        out.append(("conv2d periodic", ConvLayer(np.concatenate([C, -0.5 * C]), None, (1, N, N), 0,
                                                 "periodic")))
    for H in (2, 3, 4):  # DCGAN upsampling: ConvTranspose2d(4, 2, 1), c_in = 4 h
        C = rng.integers(-3, 4, size=(4, 1, 4, 4)).astype(float)
        out.append(("convT s2", StridedConv(np.concatenate([C, -0.5 * C], axis=1), None, (4, H, H),
                                            2, 1, 0, True)))
    C = rng.integers(-3, 4, size=(4, 1, 4, 4)).astype(float)
    out.append(("convT s2, s^2=0.7", StridedConv(np.concatenate([C, -0.7 * C], axis=1), None,
                                                 (4, 3, 3), 2, 1, 0, True)))
    return out


def small_rows(rng, time_limit):
    rows = []
    for kind, layer in small_layers(rng):
        W, b = layer.matrix()
        Wd = W.toarray()
        t = time.perf_counter()
        pairs = certify_conv_pairs(layer, certificate_limit=64)
        t_pairs = time.perf_counter() - t
        t = time.perf_counter()
        full = dss.certify(Wd, b, time_limit=time_limit)
        t_full = time.perf_counter() - t
        th4 = None
        if isinstance(layer, ConvLayer):
            t = time.perf_counter()
            r = certify_conv(layer, max_dim=24, time_limit=time_limit)
            th4 = {"status": r.status, "box": r.box, "seconds": round(time.perf_counter() - t, 4),
                   "tried": [(list(e["box"]), e["status"]) for e in r.tried]}
        if pairs.status == "injective" and full.status == "not_injective":
            raise AssertionError(f"disagreement on {kind} {Wd.shape}")
        rows.append({"kind": kind, "shape": list(Wd.shape), "pairs_status": pairs.status,
                     "pairs_seconds": round(t_pairs, 4),
                     "pairs_checker_evidence": bool(pairs.full is not None and pairs.full.checked),
                     "full_status": full.status, "full_seconds": round(t_full, 4),
                     "theorem4": th4})
        print(f"{kind} {Wd.shape}: pairs {pairs.status} {t_pairs:.3f} s | full {full.status} "
              f"{t_full:.3f} s | theorem 4 {th4 and th4['status']}", flush=True)
    return rows


def plot(doc, png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for run in doc["generators"]:
        relu = [r for r in run["layers"] if r["activation"] == "relu"]
        a1.plot([r["n"] for r in relu], [r["seconds"] for r in relu], "o-",
                label=f"{run['label']} ({run['read_from']}): search")
        chk = [r for r in relu if r.get("checker_accepted")]
        if chk:
            a1.plot([r["n"] for r in chk], [r["checker_seconds"] for r in chk], "x--",
                    label=f"{run['label']}: independent checker (accepted)")
        for r in relu:
            a1.annotate(f"{r['m']}x{r['n']}\n{r['rank_method'] or r['status']}",
                        (r["n"], r["seconds"]), fontsize=7, textcoords="offset points", xytext=(4, 4))
    d = doc.get("dense_first_layer")
    if d:
        a1.plot([d["n"]], [d["seconds"]], "s", color="k",
                label=f"dss.certify on the dense first layer: {d['status']}")
    a1.set_xscale("log")
    a1.set_xlabel("layer input dimension n")
    a1.set_ylabel("seconds")
    a1.set_title("injective DCGAN, layer by layer")
    a1.legend(fontsize=7)
    sm = [r for r in doc["small"] if r["pairs_status"] == "injective"]
    ns = [r["shape"][1] for r in sm]
    a2.loglog(ns, [r["pairs_seconds"] for r in sm], "o", label="pairs + exact rank")
    a2.loglog(ns, [r["full_seconds"] for r in sm], "s", label="dss.certify, full operator")
    t4 = [(r["shape"][1], r["theorem4"]["seconds"]) for r in sm
          if r["theorem4"] and r["theorem4"]["status"] == "injective"]
    if t4:
        a2.loglog(*zip(*t4), "^", label="Theorem 4 (certify_conv)")
    a2.set_xlabel("n")
    a2.set_ylabel("seconds")
    a2.set_title("small signals: same layers, three certifiers")
    a2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=130)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small generator only")
    ap.add_argument("--time-limit", type=float, default=20.0, help="per dense certify call")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "conv_bench"))
    args = ap.parse_args(argv)
    hashes = _machine.preimport_and_hash()
    try:
        import torch  # noqa: F401

        use_torch = True
    except ImportError:
        use_torch = False
    big = dict(latent=8, ngf=8, out_size=16) if args.quick else {}
    doc = {"facts": _machine.machine_facts(hashes, packages=("python-flint", "torch"),
                                           note="shared machine: other jobs ran alongside"),
           "generators": [generator_rows(dict(big, s2=0.5), use_torch, "s^2 = 1/2"),
                          generator_rows(dict(big, s2=0.7), False, "s^2 = 0.7 (rounded)")],
           "dense_first_layer": dense_first_layer(big, 6 * args.time_limit),
           "small": small_rows(np.random.default_rng(0), args.time_limit)}
    out = args.out + (".quick" if args.quick else "")
    with open(out + ".json", "w") as fh:
        json.dump(doc, fh, indent=1)
    plot(doc, out + ".png")
    print(f"wrote {out}.json and {out}.png")


if __name__ == "__main__":
    main()
