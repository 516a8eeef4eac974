"""The checker's own [C; -s^2 C] check for ConvTranspose2d (``dsssolver/verify/conv.py``).

Its operator blocks are compared with the package's sparse operator, its transfer rank with
the dense rank and with an exact rank over Q, and every part of a claim is broken once.
"""
import flint
import numpy as np
import pytest

from dsssolver.conv import StridedConv, certify_conv_pairs
from dsssolver.conv.dcgan import certify_network_pairs, injective_dcgan
from dsssolver.layers import conv_transpose2d
from dsssolver.verify.conv import check_conv_pairs, dense_c_part


def _exact_rank(A):
    return flint.fmpq_mat(A.shape[0], A.shape[1], [flint.fmpq(int(v)) for v in A.ravel()]).rank()


@pytest.mark.parametrize("s, p, k, H, W", [(2, 1, 4, 3, 4), (2, 0, 4, 2, 3), (1, 0, 2, 3, 2),
                                            (3, 1, 6, 2, 2), (2, 1, 3, 3, 3), (1, 0, 4, 1, 1)])
def test_blocks_are_the_package_operator_permuted(s, p, k, H, W):
    rng = np.random.default_rng([s, p, k, H, W])
    c_in, c = 3, 2
    K = rng.integers(-3, 4, size=(c_in, c, k, k)).astype(float)
    A = dense_c_part(K, (c_in, H, W), s, p)
    M = conv_transpose2d(K, None, (c_in, H, W), s, p)[0].toarray()
    Ho, Wo = (H - 1) * s - 2 * p + k, (W - 1) * s - 2 * p + k
    # ours: rows (a, co, b), columns (u, ci, v); the package: rows (co, a, b), columns (ci, u, v)
    rows = np.arange(c * Ho * Wo).reshape(c, Ho, Wo).transpose(1, 0, 2).ravel()
    cols = np.arange(c_in * H * W).reshape(c_in, H, W).transpose(1, 0, 2).ravel()
    assert np.array_equal(A, M[np.ix_(rows, cols)])


def _pair_layer(rng, c_in, c, s=2, singular=False, s2=0.5, low=-3):
    C = rng.integers(low, 4, size=(c_in, c, 2 * s, 2 * s)).astype(float)
    if singular:  # two equal input channels: their difference is a null vector of the C part
        C[1] = C[0]
    weight = np.concatenate([C, -s2 * C], axis=1)
    claim = {"pairs": [[i, c + i, "1/2"] for i in range(c)]}
    return weight, claim, C


def test_transfer_and_dense_agree_with_the_exact_rank():
    rng = np.random.default_rng(5)
    seen = set()
    for trial in range(24):
        # s^2 c = c_in makes N square (the transfer applies); small integer kernels are
        # often singular, so both verdicts occur
        singular = trial % 3 == 0
        weight, claim, C = _pair_layer(rng, 4, 1, singular=singular,
                                       low=int(rng.choice([-1, 0, -3])))
        H, W = 2 + trial % 2, 2 + trial % 3
        A = dense_c_part(C, (4, H, W), 2, 1)
        full = _exact_rank(A) == A.shape[1]
        res = check_conv_pairs(weight, None, (4, H, W), 2, 1, claim)
        assert res.stats["rank_method"] == "transfer"
        assert bool(res) == full, (trial, res.message)
        seen.add(full)
    assert seen == {True, False}


def test_dense_path_for_other_shapes():
    rng = np.random.default_rng(6)
    for _ in range(6):
        C = rng.integers(-2, 3, size=(3, 3, 3, 3)).astype(float)  # kernel 3: no transfer
        weight = np.concatenate([C, -0.25 * C], axis=1)
        claim = {"pairs": [[i, 3 + i, "1/4"] for i in range(3)]}
        res = check_conv_pairs(weight, None, (3, 2, 2), 2, 1, claim)
        A = dense_c_part(C, (3, 2, 2), 2, 1)
        assert res.stats["rank_method"] == "dense"
        assert bool(res) == (_exact_rank(A) == A.shape[1])


def test_every_broken_claim_is_rejected():
    rng = np.random.default_rng(7)
    weight, claim, _ = _pair_layer(rng, 4, 1)
    good = check_conv_pairs(weight, None, (4, 3, 3), 2, 1, claim)
    assert good, good.message
    bad = [
        ({"pairs": [[0, 1, "1/4"]]}, None, "not -lam"),          # wrong ratio
        ({"pairs": [[0, 1, "-1/2"]]}, None, "positive"),         # lam <= 0
        ({"pairs": [[0, 0, "1/2"]]}, None, "distinct"),          # one channel twice
        ({"pairs": [[0, 5, "1/2"]]}, None, "distinct"),          # out of range
        ({"pairs": []}, None, "distinct"),                       # no pairs
        ({"pairs": [[0, 1]]}, None, "malformed"),                # no lam
        ({}, None, "malformed"),
        (claim, np.array([-1.0, 0.0]), "lam b_i + b_j < 0"),    # bias breaks the pair
    ]
    for cl, bias, word in bad:
        res = check_conv_pairs(weight, bias, (4, 3, 3), 2, 1, cl)
        assert not res and word in res.message, (cl, res.message)
    # a lam that is not a power of two goes through the exact comparison, and holds
    w3 = np.concatenate([weight[:, :1], -3.0 * weight[:, :1]], axis=1)
    assert check_conv_pairs(w3, None, (4, 3, 3), 2, 1, {"pairs": [[0, 1, "3"]]}).message.startswith("1 ")
    assert not check_conv_pairs(w3, None, (4, 3, 3), 2, 1, {"pairs": [[0, 1, "2"]]})
    # a bias that keeps lam b_i + b_j >= 0 is fine
    assert check_conv_pairs(weight, np.array([1.0, -0.5]), (4, 3, 3), 2, 1, claim)
    # filters antiparallel only up to rounding (s^2 = 0.7): not exact, rejected
    w07 = np.concatenate([weight[:, :1], -0.7 * weight[:, :1]], axis=1)
    assert not check_conv_pairs(w07, None, (4, 3, 3), 2, 1, {"pairs": [[0, 1, "7/10"]]})
    # wrong shapes
    assert not check_conv_pairs(weight, None, (5, 3, 3), 2, 1, claim)
    assert not check_conv_pairs(weight, None, (4, 3, 3), 2, 4, claim)


def test_certify_conv_pairs_runs_the_checker_and_agrees():
    gen = injective_dcgan(latent=16, ngf=8, out_size=32, seed=1)
    results = certify_network_pairs(gen, independent_check=True)
    relu = [r for r in results if r.status != "skipped"]
    assert relu and all(r.status == "injective" for r in relu)
    assert all(r.stats["checker"]["ok"] is True for r in relu)
    assert {r.stats["checker"]["rank_method"] for r in relu} == {"dense", "transfer"}
    # a singular C part: the search says unknown, and the checker is not asked
    rng = np.random.default_rng(8)
    weight, _, _ = _pair_layer(rng, 4, 1, singular=True)
    res = certify_conv_pairs(StridedConv(weight, None, (4, 3, 3), 2, 1, 0, True),
                             independent_check=True)
    assert res.status == "unknown" and "checker" not in res.stats
