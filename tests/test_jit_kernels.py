"""The compiled transversal kernels (search and checker) against brute-force determinants.

Small primes make dependent choices frequent, so both answers are exercised; sizes cover the
degenerate shapes (d = 1, parts of one row, zero vectors, repeated rows).
"""
import itertools

import flint
import numpy as np
import pytest

from dsssolver.exact import _jit as search_jit
from dsssolver.verify import _jit as check_jit

numba = pytest.importorskip("numba")  # without numba both sides run their numpy paths


def test_the_kernels_compile_where_numba_is_installed():
    # a kernel that fails to compile would silently leave the numpy paths in charge
    assert search_jit.kernel() is not None
    assert check_jit._kernel() is not None


_ONE_SPECIALISATION = """
import numpy as np, numba, dsssolver as dss
from dsssolver.exact import _kernels as ek
from dsssolver.verify import _kernels as vk
rng = np.random.default_rng(3)
for W in (rng.standard_normal((40, 6)), rng.integers(-1, 2, size=(30, 5)).astype(float)):
    r = dss.certify(W, workers=1)
    assert r.checked, r.message
many = {m.__name__ + "." + name: len(f.signatures)
        for m in (ek, vk) for name, f in vars(m).items()
        if isinstance(f, numba.core.registry.CPUDispatcher) and len(f.signatures) > 1}
print(many)
"""


def test_a_certify_run_compiles_each_kernel_once():
    # A kernel called with a readonly array or a literal constant compiles a second machine
    # code (most of a second each on a first run); a run must use the types warm_up compiles.
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _ONE_SPECIALISATION], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "{}"


def _dependent_mod_p(vectors, p):
    return flint.nmod_mat([[int(x) for x in v] for v in vectors], p).rank() < len(vectors)


def _all_bases_brute(parts, p):
    return not any(_dependent_mod_p(choice, p) for choice in itertools.product(*parts))


def _random_parts(rng, p):
    d = int(rng.integers(1, 6))
    parts = []
    for _ in range(d):
        a = int(rng.integers(1, 5))
        part = rng.integers(0, p, size=(a, d), dtype=np.int64)
        if rng.random() < 0.15:
            part[rng.integers(a)] = 0  # a zero vector: dependent in every choice
        if rng.random() < 0.15 and parts:
            other = parts[int(rng.integers(len(parts)))]
            part[rng.integers(a)] = other[rng.integers(len(other))] * int(rng.integers(1, p)) % p
        parts.append(part)
    return parts


@pytest.mark.parametrize("p", [5, 7, 13, 2147483647])
def test_search_kernel_matches_brute_force(p):
    rng = np.random.default_rng(p)
    seen = set()
    for _ in range(300):
        parts = _random_parts(rng, p)
        want = _all_bases_brute(parts, p)
        assert search_jit.all_transversals_bases(parts, p) == want
        seen.add(want)
    assert seen == {True, False}


@pytest.mark.parametrize("p", [5, 7, 13, 2147483647])
def test_checker_kernel_matches_brute_force(p):
    rng = np.random.default_rng(1000 + p)
    seen = set()
    for _ in range(300):
        parts = _random_parts(rng, p)
        want = _all_bases_brute(parts, p)
        found = check_jit.first_dependent(parts, p)
        assert (found == ()) == want
        if found:  # the prefix it names is dependent modulo p
            assert _dependent_mod_p([parts[k][c] for k, c in enumerate(found)], p)
        seen.add(want)
    assert seen == {True, False}


def test_kernels_agree_with_the_numpy_paths():
    """The numpy paths stay the fallback; on residues modulo the search's prime both give the
    same verdicts as the kernels."""
    from dsssolver.exact.matroid import PRIME, _all_transversals_nonsingular, _det_nonzero_mod_p
    rng = np.random.default_rng(7)
    for _ in range(100):
        parts = _random_parts(rng, 11)
        parts = [(q * int(rng.integers(1, 1000))) % PRIME for q in parts]
        fast = _all_transversals_nonsingular(parts)
        if fast is None:
            grids = itertools.product(*parts)
            fast = bool(all(_det_nonzero_mod_p(np.array([list(c)]))[0] for c in grids))
        assert search_jit.all_transversals_bases(parts, PRIME) == fast


def test_compiled_packing_matches_the_numpy_packing():
    from dsssolver.certify.pool import SupportSet, mask

    rng = np.random.default_rng(3)
    for trial in range(200):
        m = int(rng.integers(3, 140))  # one to three 64-bit words
        S = SupportSet(m, cap=None if trial % 2 else int(rng.integers(1, 100)))
        for _ in range(int(rng.integers(0, 200))):  # the pool and its row index grow past 64
            S.add(rng.choice(m, size=int(rng.integers(1, min(m, 9) + 1)), replace=False))
        F = mask(rng.choice(m, size=int(rng.integers(0, min(m, 12))), replace=False))
        E = mask(rng.choice(m, size=int(rng.integers(0, m // 2 + 1)), replace=False))
        d = int(rng.integers(1, 7))
        if not len(S):
            assert S.packing(F, E, d) == []
            continue
        A = S._bits[:len(S)]
        assert S.packing(F, E, d) == S._packing_numpy(A, F, E, d), trial


def test_parallel_pair_kernel_matches_brute_force():
    rng = np.random.default_rng(11)
    seen = set()
    for _ in range(300):
        p = int(rng.choice([5, 7, 2147483647]))
        s, d = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        V = rng.integers(0, p, size=(s, d), dtype=np.int64)
        if rng.random() < 0.3 and s > 1:
            V[1] = V[0] * int(rng.integers(0, p)) % p
        want = any(flint.nmod_mat([[int(x) for x in V[a]], [int(x) for x in V[b]]], p).rank() < 2
                   for a in range(s) for b in range(a + 1, s))
        assert check_jit.has_parallel_pair(V, p) == want
        seen.add(want)
    assert seen == {True, False}



def test_checker_node_scan_matches_its_numpy_path():
    from dsssolver.verify.flats import _Search

    rng = np.random.default_rng(12)
    for trial in range(150):
        m = int(rng.integers(2, 130))
        count = int(rng.integers(1, 200))
        masks = [sum(1 << int(i) for i in rng.choice(m, size=int(rng.integers(1, min(m, 8) + 1)),
                                                     replace=False)) for _ in range(count)]
        search = _Search([[1] * 2 for _ in range(m)], 2, masks, None, None, None)
        F = sum(1 << int(i) for i in rng.choice(m, size=int(rng.integers(0, 4)), replace=False))
        E = sum(1 << int(i) for i in rng.choice(m, size=int(rng.integers(0, m // 2 + 1)), replace=False))
        idx = np.sort(rng.choice(len(masks), size=int(rng.integers(1, len(masks) + 1)), replace=False))
        d = int(rng.integers(1, 6))
        want = search._scan_numpy(F, E, d, idx)
        got = check_jit.node_scan(search.Dw, idx, search._words(F), search._words(E), d)
        assert got[0].tolist() == want[0].tolist(), trial
        if want[0].size:
            assert got[1:] == want[1:], trial
        # through the index by row, over every dependency (as at a node whose candidates are
        # all those disjoint from its parent's flat)
        every = np.arange(len(masks))
        want = search._scan_numpy(F, E, d, every)
        got = check_jit.node_scan(search.Dw, every, search._words(F), search._words(E), d,
                                  check_jit.row_index(search.Dw, 64 * search.words))
        assert got[0].tolist() == want[0].tolist(), trial
        if want[0].size:
            assert got[1:] == want[1:], trial


def _mask_words(rows, words):
    out = np.zeros(words, dtype=np.uint64)
    for i in rows:
        out[i >> 6] |= np.uint64(1) << np.uint64(i & 63)
    return out


@pytest.mark.parametrize("p", [3, 7, 2147483629])
def test_the_checkers_packed_test_against_brute_force(p):
    # random packings over up to 130 rows (three words), rows excluded, parallel rows, zero rows
    rng = np.random.default_rng(p)
    seen = {"bases": 0, "dependent": 0, "caller": 0}
    for _ in range(300):
        d = int(rng.integers(1, 5))
        m = int(rng.integers(d + 1, 130))
        words = (m + 63) // 64
        rows = rng.permutation(m)
        cuts = np.sort(rng.choice(np.arange(1, m), size=d, replace=False)) if m > d else None
        supports = [rows[a:b].tolist() for a, b in zip(np.r_[0, cuts[:-1]], cuts)][:d]
        supports = [s[:int(rng.integers(1, 5))] for s in supports]
        E = [i for s in supports for i in s if rng.random() < 0.15]
        free = [[i for i in sorted(s) if i not in E] for s in supports]
        Pp = rng.integers(-1, 2, size=(m, d)) if rng.random() < 0.5 else rng.integers(0, p, size=(m, d))
        Pp = (Pp % p).astype(np.int64)
        D = np.array([_mask_words(s, words) for s in supports], dtype=np.uint64)
        out = check_jit.packed_test(D, list(range(d)), _mask_words(E, words), Pp, p, 4, 10_000)
        vecs = [[Pp[i] for i in part] for part in free]
        if out is None:  # allowed only for an empty part or parallel rows above 4 choices
            seen["caller"] += 1
            total = int(np.prod([len(f) for f in free]))
            assert total == 0 or (total > 4 and any(
                _dependent_mod_p([Pp[a], Pp[b]], p)  # parallel modulo p, or a zero row
                for part in free for a, b in itertools.combinations(part, 2)))
            continue
        ok, val = out
        if ok:
            seen["bases"] += 1
            assert _all_bases_brute(vecs, p)
            assert val == int(np.prod([len(f) for f in free]))
        else:
            seen["dependent"] += 1
            assert _dependent_mod_p([Pp[i] for i in val], p)  # the rows it names
            assert len(val) == len(set(val))
            assert all(sum(i in part for i in val) <= 1 for part in free)  # one row per part
    assert min(seen.values()) > 0, seen
