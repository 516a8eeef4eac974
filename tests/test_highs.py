"""The HiGHS helper: quiet set-up, the cold retry and its reported failure, CSR, bound diffs."""
from __future__ import annotations

import highspy
import numpy as np

from dsssolver import _highs
from dsssolver._highs import INF, OPTIMAL, Model, csr, new_highs, pass_lp, solve, status_name

_MS = highspy.HighsModelStatus


class _Flaky:
    """A stand-in for ``highspy.Highs`` that fails until its basis is cleared."""

    def __init__(self, fail_cold=False):
        self.runs, self.cleared, self.fail_cold = 0, False, fail_cold

    def run(self):
        self.runs += 1

    def clearSolver(self):  # noqa: N802  (highspy's name)
        self.cleared = True

    def getModelStatus(self):  # noqa: N802
        if self.cleared and not self.fail_cold:
            return OPTIMAL
        return _MS.kIterationLimit


def test_cold_retry_rescues_a_failed_hot_start():
    h = _Flaky()
    out = solve(h)
    assert out.status == OPTIMAL and out.retried and h.cleared and h.runs == 2


def test_a_second_failure_is_reported_not_hidden():
    h = _Flaky(fail_cold=True)
    out = solve(h)
    assert out.status == _MS.kIterationLimit and out.retried and h.runs == 2
    assert status_name(out.status).startswith("error")


def test_no_retry_on_an_accepted_status():
    h = new_highs()
    pass_lp(h, *csr(np.array([[1.0]])), 1, [0.0], [0.0], [1.0], [2.0], [INF])  # x >= 2, x <= 1
    out = solve(h)
    assert status_name(out.status) == "infeasible" and not out.retried
    assert _highs.run(h)[0] == "infeasible"


def test_options_are_quiet_single_threaded_and_presolve_off():
    h = new_highs()
    assert h.getOptionValue("output_flag")[1] is False
    assert h.getOptionValue("threads")[1] == 1
    assert h.getOptionValue("presolve")[1] == "off"
    assert new_highs(presolve=True).getOptionValue("presolve")[1] != "off"


def test_csr_round_trip():
    rng = np.random.default_rng(0)
    A = rng.integers(-2, 3, size=(7, 5)).astype(float)
    indptr, idx, val = csr(A)
    B = np.zeros_like(A)
    for r in range(7):
        B[r, idx[indptr[r]:indptr[r + 1]]] = val[indptr[r]:indptr[r + 1]]
    assert np.array_equal(A, B)


def test_model_changes_only_bounds_that_differ_and_counts():
    # max x0 + x1 s.t. x0 <= u0, x1 <= u1 (rows), x in [0, 10]
    h = new_highs()
    pass_lp(h, *csr(np.eye(2)), 2, [-1.0, -1.0], [0, 0], [10, 10], [-INF, -INF], [1.0, 1.0])
    m = Model(h, rows=np.arange(2, dtype=np.int32), cols=np.arange(2, dtype=np.int32),
              row_upper=np.ones(2), col_upper=np.full(2, 10.0), cost=-np.ones(2))
    assert m.solve() == OPTIMAL
    assert h.getInfo().objective_function_value == -2.0
    m.set_row_upper(np.array([1.0, 3.0]))
    m.set_col_upper(np.array([0.5, 10.0]))
    m.set_costs(np.array([-1.0, -2.0]))
    assert m.solve() == OPTIMAL
    assert h.getInfo().objective_function_value == -6.5
    assert m.lp_count == 2 and m.retries == 0 and m.lp_seconds > 0
    assert _highs.changed(np.array([1.0, 3.0]), np.array([1.0, 2.0])).tolist() == [1]
