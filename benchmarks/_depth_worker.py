"""Worker for certify_bench.py: exact halfspace depth of the origin with ``data-depth``.

Run with the interpreter of the separate venv that has ``data-depth`` (never a
dependency of dsssolver)::

    /tmp/depthvenv/bin/python benchmarks/_depth_worker.py [W.npy]

With a path argument: prints one JSON line for that matrix and exits.  Without:
prints ``{"ready": true, "import_seconds": ...}`` once the (slow, torch) imports
are done, then reads one ``.npy`` path a line from stdin and answers each with a
JSON line, so the benchmark pays the imports once.  Each answer has ``depth``
(number of rows: fraction times m), ``fraction`` (what ``halfspace`` returned)
and ``seconds`` (the ``halfspace`` call alone).
"""
import os
import sys
import time

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

t0 = time.perf_counter()
import json  # noqa: E402

import numpy as np  # noqa: E402
from depth.model.multivariate import halfspace  # noqa: E402

import_seconds = time.perf_counter() - t0


def depth_of_origin(path):
    W = np.load(path)
    m, n = W.shape
    t = time.perf_counter()
    d = halfspace(np.zeros((1, n)), W, exact=True, method="line")
    seconds = time.perf_counter() - t
    frac = float(np.asarray(d, dtype=float).ravel()[0])
    return {"fraction": frac, "depth": frac * m, "seconds": seconds,
            "import_seconds": import_seconds}


if len(sys.argv) > 1:
    print(json.dumps(depth_of_origin(sys.argv[1])))
else:
    print(json.dumps({"ready": True, "import_seconds": import_seconds}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            out = depth_of_origin(line)
        except Exception as e:  # noqa: BLE001
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)
