"""Pictures of a layer's hyperplane arrangement: ``plot_layer`` (the ``plot`` extra).

For n = 2 the lines ``w_i . x + b_i = 0`` are drawn in the plane; for n = 3 (b = 0) the
great circles ``w_i . x = 0`` on the unit sphere, both hemispheres in Lambert's azimuthal
equal-area projection.  Every cell is coloured by how many rows are active on it
(``w_i . x + b_i > 0``) and labelled with those rows when there is room; the cells whose
active rows do not span R^n -- where two inputs share an output -- are shaded red; the
witness pair of a "not injective" verdict is drawn.  As the seed paper's Figures 1-2.

The active rows at any point contain those of every cell around it, so a layer is not
injective exactly when some cell is red.  The picture is computed on a pixel grid in
floating point and is for looking at (a cell thinner than a pixel can be missed): the
verdict in the title is the exact one of :func:`dsssolver.certify`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_layer
from .errors import InvalidInputError

__all__ = ["plot_layer"]

_GRID = 420  # pixels across a disc or window


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # the optional extra is missing
        raise ImportError("dss.plot_layer needs matplotlib: pip install 'dsssolver[plot]' "
                          "(or pip install matplotlib)") from exc
    return plt


def plot_layer(W: ArrayLike, b: ArrayLike | None = None, *, ax: Any = None,
               result: Any = None, labels: bool = True) -> Any:
    """Draw the arrangement of a layer with n = 2 (plane) or n = 3 (sphere, b = 0).

    Parameters
    ----------
    W : array_like, shape (m, n) with n = 2 or 3
        Weights.
    b : array_like, shape (m,), optional
        Biases (default zero); n = 3 needs b = 0 (the sphere picture is of a central
        arrangement).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.
    result : CertifyResult, optional
        The verdict to show (its witness is drawn); computed with
        :func:`dsssolver.certify` when omitted.
    labels : bool
        Write each cell's active rows in it when the cells are large enough.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidInputError
        n is not 2 or 3, or n = 3 with a non-zero b (and every invalid W or b).
    ImportError
        matplotlib is not installed (the ``plot`` extra).

    Examples
    --------
    >>> import numpy as np, dsssolver as dss
    >>> W = np.array([[1, 0], [0, 1], [-1, 1], [-1, -2]])
    >>> ax = dss.plot_layer(W)
    >>> ax.get_title().splitlines()[0]
    'not_injective: 4 rows, n = 2'
    """
    W, b = as_layer(W, b)
    m, n = W.shape
    if n not in (2, 3):
        raise InvalidInputError(f"W: plot_layer draws layers with n = 2 or 3 columns, got n = {n}")
    Wf = np.array(W, dtype=float)
    bf = np.array(b, dtype=float)
    if n == 3 and np.any(bf != 0):
        raise InvalidInputError("b: plot_layer draws n = 3 layers only with b = 0 (on the sphere)")
    if result is None:
        from .certify import certify

        result = certify(W, b)
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 6.5) if n == 2 else (11, 5.6))
    if n == 2:
        _plane(ax, Wf, bf, result, labels)
    else:
        _sphere(ax, Wf, result, labels)
    ax.set_title(f"{result.status}: {m} rows, n = {n}\n"
                 "red: cells whose active rows do not span R^%d" % n, fontsize=10)
    ax.set_aspect("equal")
    return ax


# ------------------------------------------------------------------------------ the cells

def _cells(Wf, bf, X):
    """Label every point of X (P x n) by its cell; per cell its active rows and rank."""
    signs = (X @ Wf.T + bf) > 0
    _, first, label = np.unique(np.packbits(signs, axis=1), axis=0, return_index=True,
                                return_inverse=True)
    active = [np.flatnonzero(signs[i]) for i in first]
    rank = [np.linalg.matrix_rank(Wf[a]) if len(a) else 0 for a in active]
    return label.ravel(), active, np.array(rank)


def _paint(ax, label, active, rank, n, mask, extent, offset=(0.0, 0.0)):
    """Colour the cells: the count of active rows, red where the rank is below n."""
    m_active = np.array([len(a) for a in active], dtype=float)
    img = np.where(mask, m_active[label].reshape(mask.shape), np.nan)
    bad = np.where(mask, (rank[label] < n).reshape(mask.shape), False)
    x0, x1, y0, y1 = extent
    ext = (x0 + offset[0], x1 + offset[0], y0 + offset[1], y1 + offset[1])
    ax.imshow(img, origin="lower", extent=ext, cmap="Blues", alpha=0.75,
              vmin=0, vmax=max(1.0, 1.25 * np.nanmax(m_active)), interpolation="nearest")
    red = np.zeros(mask.shape + (4,))
    red[bad] = (0.85, 0.1, 0.1, 0.55)
    ax.imshow(red, origin="lower", extent=ext, interpolation="nearest")


def _annotate(ax, label, active, mask, xy, max_cells=40):
    """Write the active rows at the centre of every cell big enough to hold them."""
    lab = np.where(mask.ravel(), label, -1)
    ids, counts = np.unique(lab[lab >= 0], return_counts=True)
    if len(ids) > max_cells:
        return
    for k, c in zip(ids, counts):
        if c < 0.004 * mask.size:
            continue
        pts = xy[lab == k]
        centre = pts[np.argmin(((pts - pts.mean(axis=0)) ** 2).sum(axis=1))]
        txt = "{" + ",".join(str(i) for i in active[k]) + "}"
        ax.text(centre[0], centre[1], txt, fontsize=6.5, ha="center", va="center",
                color="0.15")


def _witness_points(result):
    if result is None or result.status != "not_injective" or not result.witness:
        return None
    return [np.array([float(v) for v in x]) for x in result.witness]


# ------------------------------------------------------------------------------ n = 2

def _window(Wf, bf, wit):
    """A square window holding every vertex of the arrangement and the witness."""
    pts = [np.zeros(2)]
    for i in range(len(Wf)):
        for j in range(i + 1, len(Wf)):
            A = Wf[[i, j]]
            if abs(np.linalg.det(A)) > 1e-12:
                pts.append(np.linalg.solve(A, -bf[[i, j]]))
    if wit is not None:
        pts.extend(wit)
    pts = np.array(pts)
    c = (pts.max(axis=0) + pts.min(axis=0)) / 2
    r = max(1.0, 0.6 * float(np.max(pts.max(axis=0) - pts.min(axis=0))) * 1.15)
    return c, r


def _plane(ax, Wf, bf, result, labels):
    wit = _witness_points(result)
    central = not np.any(bf)
    if central and wit is not None:  # b = 0: scale the pair into the unit disc
        s = max(np.abs(wit[0]).max(), np.abs(wit[1]).max())
        wit = [w / (1.15 * s) * 0.9 for w in wit] if s > 0 else wit
    c, r = (np.zeros(2), 1.05) if central else _window(Wf, bf, wit)
    g = np.linspace(-r, r, _GRID)
    XX, YY = np.meshgrid(g + c[0], g + c[1])
    xy = np.column_stack([XX.ravel(), YY.ravel()])
    mask = ((XX - c[0]) ** 2 + (YY - c[1]) ** 2 <= 1.0) if central else np.ones_like(XX, bool)
    label, active, rank = _cells(Wf, bf, xy)
    extent = (c[0] - r, c[0] + r, c[1] - r, c[1] + r)
    _paint(ax, label, active, rank, 2, mask, extent)
    if labels:
        _annotate(ax, label, active, mask, xy)
    _lines(ax, Wf, bf, c, r, central)
    if wit is not None:
        _draw_pair(ax, wit[0], wit[1])
    ax.set(xlim=extent[:2], ylim=extent[2:], xlabel="x_1", ylabel="x_2")


def _lines(ax, Wf, bf, c, r, central):
    """Each line w_i x + b_i = 0 across the window, with i written on its positive side."""
    for i, (w, bi) in enumerate(zip(Wf, bf)):
        nw = np.linalg.norm(w)
        if nw == 0:
            continue
        u = w / nw
        d = np.array([-u[1], u[0]])
        p0 = -bi / nw * u
        p0 = p0 + np.dot(c - p0, d) * d  # the point of the line nearest the window's centre
        t = 1.0 if central else _clip(p0, d, c, r)
        if t is None:
            continue
        a, e = p0 - t * d, p0 + t * d
        ax.plot([a[0], e[0]], [a[1], e[1]], color="0.2", lw=0.9)
        tip = p0 + 0.9 * t * d + 0.04 * r * u
        ax.text(tip[0], tip[1], str(i), fontsize=7, color="tab:blue", ha="center",
                va="center", fontweight="bold")


def _clip(p0, d, c, r):
    """Half-length of the chord of the line p0 + t d (t symmetric about p0) in the window."""
    ts = []
    for k in range(2):
        if abs(d[k]) > 1e-12:
            ts.append(min(abs((c[k] + r - p0[k]) / d[k]), abs((c[k] - r - p0[k]) / d[k])))
    t = min(ts) if ts else 0.0
    return t if t > 0 else None


def _draw_pair(ax, x1, x2, offset=(0.0, 0.0)):
    o = np.array(offset)
    p, q = x1[:2] + o, x2[:2] + o
    ax.plot([p[0], q[0]], [p[1], q[1]], color="k", lw=1.4, zorder=5)
    ax.scatter([p[0], q[0]], [p[1], q[1]], color=["gold", "orange"], edgecolors="k",
               s=60, zorder=6, marker="*")
    ax.annotate("x1", p, xytext=(4, 4), textcoords="offset points", fontsize=8, zorder=7)
    ax.annotate("x2", q, xytext=(4, -10), textcoords="offset points", fontsize=8, zorder=7)


# ------------------------------------------------------------------------------ n = 3

def _lambert_inverse(u, v, south):
    """Points of the unit disc back onto a hemisphere (Lambert's azimuthal equal-area
    projection about the pole, its radius sqrt 2 scaled to 1)."""
    rho2 = 2.0 * (u ** 2 + v ** 2)  # disc radius 1 <-> hemisphere boundary
    k = np.sqrt(np.clip(1 - rho2 / 4, 0, None))
    x, y, z = np.sqrt(2) * u * k, np.sqrt(2) * v * k, 1 - rho2 / 2
    return np.column_stack([x, y, -z if south else z])


def _lambert(p):
    """A unit vector onto its hemisphere's disc (the inverse of ``_lambert_inverse``)."""
    z = np.abs(p[..., 2])
    s = 1.0 / np.sqrt(1.0 + z)
    return p[..., 0] * s, p[..., 1] * s


def _sphere(ax, Wf, result, labels):
    g = np.linspace(-1.0, 1.0, _GRID)
    UU, VV = np.meshgrid(g, g)
    mask = UU ** 2 + VV ** 2 <= 1.0
    zero = np.zeros(len(Wf))
    wit = _witness_points(result)
    for south, dx in ((False, 0.0), (True, 2.4)):
        X = _lambert_inverse(UU.ravel(), VV.ravel(), south)
        label, active, rank = _cells(Wf, zero, X)
        _paint(ax, label, active, rank, 3, mask, (-1, 1, -1, 1), offset=(dx, 0.0))
        if labels:
            xy = np.column_stack([UU.ravel() + dx, VV.ravel()])
            _annotate(ax, label, active, mask, xy)
        _great_circles(ax, Wf, south, dx)
        ax.add_patch(__import__("matplotlib").patches.Circle((dx, 0), 1.0, fill=False, lw=1))
        ax.text(dx, -1.12, "x_3 < 0 hemisphere" if south else "x_3 > 0 hemisphere",
                ha="center", fontsize=8)
        if wit is not None:
            _sphere_pair(ax, wit, south, dx)
    ax.set(xlim=(-1.1, 3.5), ylim=(-1.2, 1.1))
    ax.axis("off")


def _great_circles(ax, Wf, south, dx):
    t = np.linspace(0, 2 * np.pi, 721)
    for w in Wf:
        nw = np.linalg.norm(w)
        if nw == 0:
            continue
        u = w / nw
        a = np.cross(u, [1.0, 0, 0] if abs(u[0]) < 0.9 else [0, 1.0, 0])
        a /= np.linalg.norm(a)
        c = np.cross(u, a)
        P = np.outer(np.cos(t), a) + np.outer(np.sin(t), c)
        keep = (P[:, 2] < 0) if south else (P[:, 2] >= 0)
        x, y = _lambert(P)
        x, y = np.where(keep, x, np.nan), np.where(keep, y, np.nan)
        ax.plot(x + dx, y, color="0.2", lw=0.8)


def _sphere_pair(ax, wit, south, dx):
    """The witness on the sphere: each non-zero point by its direction."""
    for name, x, col in (("x1", wit[0], "gold"), ("x2", wit[1], "orange")):
        nx = np.linalg.norm(x)
        if nx == 0 or (x[2] < 0) != south:
            continue
        u, v = _lambert(x / nx)
        ax.scatter([u + dx], [v], color=col, edgecolors="k", s=70, marker="*", zorder=6)
        ax.annotate(name, (u + dx, v), xytext=(4, 4), textcoords="offset points", fontsize=8)
