"""[C; -s^2 C] convolutions: exact pairs, exact ranks modulo p, the DCGAN generator."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import dsssolver as dss
from dsssolver.conv import ConvLayer, StridedConv, certify_conv_pairs, find_pairs
from dsssolver.conv.dcgan import certify_network_pairs, injective_dcgan, to_torch
from dsssolver.conv.modp import PRIMES, full_column_rank, residues
from dsssolver.conv.structure import _dense_blocks, _rank_dense, _rank_frequency, _rank_transfer
from dsssolver.exact import RowMatroid

P = PRIMES[0]


def exact_full_column_rank(A):
    return RowMatroid(A).rank() == A.shape[1]


def test_residue_rank_never_overclaims():
    """Full column rank mod p implies it over Q; on these integer matrices both directions hold."""
    rng = np.random.default_rng(0)
    seen = set()
    for t in range(150):
        m, n = (int(v) for v in rng.integers(1, 40, size=2))
        r = int(rng.integers(0, min(m, n) + 1))
        A = (rng.integers(-3, 4, size=(m, r)) @ rng.integers(-3, 4, size=(r, n))).astype(float)
        A *= [1.0, 0.375, 2.0 ** -40, 3.0 * 2.0 ** 30][t % 4]
        got, ref = full_column_rank(residues(A, P), P), exact_full_column_rank(A)
        assert got == ref  # never over-claims (got -> ref); here it never under-claims either
        seen.add(ref)
    assert seen == {True, False}
    # a multiple of p on the diagonal: singular mod p but not over Q ("not shown", never wrong)
    A = np.diag([1.0, float(P)])
    assert not full_column_rank(residues(A, P), P) and exact_full_column_rank(A)


def brute_pairs(F, b):
    """Every (i, j, lam) with F_j = -lam F_i exactly, lam > 0, lam b_i + b_j >= 0 (Fractions)."""
    Fq = [[Fraction(float(v)) for v in row] for row in F]
    out = set()
    for i, u in enumerate(Fq):
        for j, v in enumerate(Fq):
            k = next((t for t, x in enumerate(u) if x), None)
            if i == j or k is None or not v[k]:
                continue
            lam = -v[k] / u[k]
            if lam > 0 and all(y == -lam * x for x, y in zip(u, v)) \
                    and lam * Fraction(float(b[i])) + Fraction(float(b[j])) >= 0:
                out.add((i, j))
    return out


def test_find_pairs_is_exact():
    rng = np.random.default_rng(1)
    for t in range(60):
        h = int(rng.integers(1, 5))
        C = rng.integers(-3, 4, size=(h, 5)).astype(float) * 2.0 ** rng.integers(-20, 20, size=(h, 1))
        C[rng.random(h) < 0.2] = 0.0
        scale = [0.5, 0.7, 3.0, 2.0 ** -30][t % 4]  # 0.7 and 3 need not round exactly
        F = np.vstack([C, -scale * C, C[:1] * (1 + 2.0 ** -52)])
        F = F[rng.permutation(len(F))]
        b = rng.integers(-1, 2, size=len(F)).astype(float)
        found = find_pairs(F, b)
        ref = brute_pairs(F, b)
        for i, j, lam in found.pairs:
            assert (i, j) in ref and lam == -Fraction(float(F[j][np.flatnonzero(F[i])[0]])) \
                / Fraction(float(F[i][np.flatnonzero(F[i])[0]]))
        chans = [c for i, j, _ in found.pairs for c in (i, j)]
        assert len(chans) == len(set(chans))
        # maximal: no exact pair is left among the unpaired channels
        assert not any(i in found.unpaired and j in found.unpaired for i, j in ref)


def _small_layers(rng):
    """[C; -s^2 C] layers of every kind the certifier reads, some with a singular C part."""
    for t in range(24):
        kind = t % 4
        singular = t % 3 == 0
        if kind == 0:  # zero-padded 1-D
            C = rng.integers(-2, 3, size=(2, 1, 2)).astype(float)
            make = lambda K, b: ConvLayer(K, b, (1, 4), 1)  # noqa: E731
        elif kind == 1:  # periodic 2-D, two input channels
            C = rng.integers(-2, 3, size=(2, 2, 2, 2)).astype(float)
            make = lambda K, b: ConvLayer(K, b, (2, 3, 3), 0, "periodic")  # noqa: E731
        elif kind == 2:  # DCGAN upsampling: ConvTranspose2d(4, stride 2, padding 1)
            C = rng.integers(-2, 3, size=(4, 1, 4, 4)).astype(float)
            make = lambda K, b: StridedConv(K, b, (4, 2, 2), 2, 1, 0, True)  # noqa: E731
        else:  # a strided Conv2d
            C = rng.integers(-2, 3, size=(3, 1, 3, 3)).astype(float)
            make = lambda K, b: StridedConv(K, b, (1, 4, 4), 2, 1)  # noqa: E731
        axis = 1 if kind == 2 else 0
        if singular:  # one C filter repeated: for kind 2 the C part is then rank-deficient
            if axis:
                C[:, -1] = C[:, 0]
            else:
                C[-1] = C[0]
        bC = rng.integers(-2, 3, size=C.shape[axis]).astype(float)
        K = np.concatenate([C, -0.25 * C], axis=axis)
        yield make(K, np.concatenate([bC, 0.25 * bC + rng.integers(0, 2, size=len(bC))]))


def test_pairs_agree_with_the_full_operator_and_the_checker():
    rng = np.random.default_rng(2)
    verdicts = set()
    for layer in _small_layers(rng):
        W, b = layer.matrix()
        res = certify_conv_pairs(layer, certificate_limit=64)
        full = dss.certify(W.toarray(), b)
        assert full.status != "unknown"
        verdicts.add((res.status, full.status))
        if res.status == "injective":
            assert full.status == "injective", layer
            assert res.full.checked and dss.check(res.full, W.toarray(), b)
            assert dss.check_conv(res, layer)
        else:
            assert res.status == "unknown"
    assert ("injective", "injective") in verdicts and ("unknown", "not_injective") in verdicts


def test_dense_blocks_match_the_sparse_operator():
    rng = np.random.default_rng(5)
    for transposed in (False, True):
        for s, p in ((1, 0), (2, 1), (2, 0), (3, 1)):
            K = rng.standard_normal((3, 2, 4, 4))
            C = StridedConv(K, None, (3 if transposed else 2, 5, 6), s, p, 0, transposed)
            assert np.array_equal(_dense_blocks(C), C.matrix()[0].toarray())


def test_rank_methods_agree_with_exact_ranks():
    rng = np.random.default_rng(3)
    seen = set()
    for t in range(30):
        h = int(rng.integers(1, 3))
        c_in = 4 * h if t % 3 else int(rng.integers(1, 9))  # square strips, and not
        K = rng.integers(-2, 3, size=(c_in, h, 4, 4)).astype(float)
        if t % 4 == 0:
            K[:, :, 1::2] = 0  # structured zeros: the transfer block N is then singular
        C = StridedConv(K, None, (c_in, int(rng.integers(2, 5)), int(rng.integers(1, 4))), 2, 1, 0,
                        True)
        ref = exact_full_column_rank(C.matrix()[0].toarray())
        got = bool(_rank_transfer(C, P))
        assert got == bool(_rank_dense(C, P)) and (got == ref or not got)
        seen.add(ref)
    for t in range(30):
        dims = 1 + t % 2
        O = tuple(int(o) for o in rng.integers(1, 3, size=dims))
        N = tuple(int(o + rng.integers(0, 3)) for o in O)
        K = rng.integers(-1, 2, size=(int(rng.integers(1, 4)), 1) + O).astype(float)
        L = ConvLayer(K, None, (1,) + N, 0, "periodic")
        ref = exact_full_column_rank(L.dense())
        got = bool(_rank_frequency(L, P))
        assert got == ref or not got
        seen.add(("periodic", ref))
    assert seen >= {True, False, ("periodic", True), ("periodic", False)}


def test_small_dcgan_layer_by_layer():
    gen = injective_dcgan(latent=8, ngf=8, out_size=16, seed=3)
    res = certify_network_pairs(gen, certificate_limit=8)  # the checker's Fractions: small n only
    assert [r.status for r in res] == ["injective", "injective", "skipped"]
    W, b = gen[0][0].matrix()
    assert res[0].full.checked and dss.check(res[0].full, W.toarray(), b) and res[1].full is None
    # s^2 = 0.7 rounds: the float pairs are not exactly antiparallel, and we say so
    bad = certify_network_pairs(injective_dcgan(latent=8, ngf=8, out_size=16, s2=0.7)[:1])[0]
    assert bad.status == "unknown" and bad.stats["near_pairs"] > 0 and "MATH.md 7b" in bad.message


def test_torch_generator_is_read_directly():
    torch = pytest.importorskip("torch")
    gen = injective_dcgan(latent=8, ngf=8, out_size=16, seed=4)
    net = to_torch(gen)
    res = certify_network_pairs(net, (8, 1, 1))
    assert [r.status for r in res] == ["injective", "injective", "skipped"]
    z = torch.randn(1, 8, 1, 1)
    W, _ = gen[0][0].matrix()
    h = np.maximum(W @ z.double().numpy().reshape(-1), 0)
    assert np.allclose(h, torch.relu(net[0](z)).detach().numpy().reshape(-1), atol=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="input_shape"):
        certify_conv_pairs(type("Conv2d", (), {})())
    with pytest.raises(ValueError, match="method"):
        certify_conv_pairs(ConvLayer(np.ones((2, 1, 2)), input_shape=(1, 3)), method="magic")
    with pytest.raises(ValueError, match="weight"):
        StridedConv(np.ones((2, 2)), None, (2, 2, 2))


@pytest.mark.slow
def test_dcgan_at_the_seed_sizes():
    """The seed's Section 4 sizes: 256 -> 512x4x4 -> 256x8x8 -> 128x16x16 -> 64x32x32."""
    res = certify_network_pairs(injective_dcgan())
    assert [r.status for r in res] == ["injective"] * 4 + ["skipped"]
