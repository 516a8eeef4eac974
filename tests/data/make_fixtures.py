"""Write the checker's JSON fixtures (run once; the checker's tests then never call the search).

    PYTHONPATH=. python tests/data/make_fixtures.py
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import dsssolver as dss

HERE = Path(__file__).resolve().parent


def small_cases(count=40, seed=7):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        n = int(rng.integers(2, 4))
        m = int(rng.integers(2 * n + 1, 11))
        W = rng.integers(-3, 4, size=(m, n))
        b = rng.integers(-2, 3, size=m) if rng.random() < 0.5 else np.zeros(m, dtype=np.int64)
        res = dss.certify(W, b)
        if res.status == "unknown":
            continue
        # keep about as many proofs as witnesses
        want = "injective" if len(out) % 2 == 0 else "not_injective"
        if res.status == want:
            out.append({"W": W.tolist(), "b": b.tolist(), "evidence": res.to_json()})
    return out


def main():
    (HERE / "small_evidence.json").write_text(json.dumps(small_cases()))
    W = np.random.default_rng(4).standard_normal((42, 6))
    res = dss.certify(W)
    assert res.status == "injective"
    np.savez(HERE / "gaussian_42x6.npz", W=W)
    (HERE / "gaussian_42x6_proof.json").write_text(json.dumps(res.to_json()))


if __name__ == "__main__":
    main()
