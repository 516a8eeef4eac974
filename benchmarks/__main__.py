"""``python -m benchmarks [NAME ...] [--quick]``: the same as ``dss bench``."""
import sys

from dsssolver.cli.main import main

sys.exit(main(["bench", *sys.argv[1:]]))
