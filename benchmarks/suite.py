"""The benchmark suite that ``dss bench`` and ``python -m benchmarks`` run.

Each entry: the script (in this folder), one line on what it measures, and the name of its
JSON in ``results/`` (``{q}`` is ``.quick`` under ``--quick``) when the script takes
``--out`` (None: the script always writes to ``results/`` itself).  Every script takes
``--quick``.  ``highspy_version_bench.py`` needs two prepared virtual environments and is
run by hand, not from here.
"""
SUITE = {
    "certify": {"script": "certify_bench.py", "out": "certify_bench{q}.json",
                "about": "dss.certify against brute force, big-M MILPs and data-depth"},
    "threshold": {"script": "threshold.py", "out": "threshold{q}.json",
                  "about": "the injectivity threshold of random layers, m*(W) per trial"},
    "invert": {"script": "invert_bench.py", "out": "invert_bench{q}.json",
               "about": "LP inversion of generators against gradient descent"},
    "networks": {"script": "networks_bench.py", "out": None,
                 "about": "networks layer by layer and end to end; [B; -DB; M] layers up to n = 1000"},
    "stability": {"script": "stability_bench.py", "out": None,
                  "about": "inverse Lipschitz constants: the seed's C(W), proved bounds, best pairs"},
}
