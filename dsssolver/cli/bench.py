"""``dss bench [NAME ...]``: run the benchmark suite of a source checkout, or parts of it.

The suite is listed in ``benchmarks/suite.py``.  Each benchmark runs as its own process
(``python benchmarks/<script> [--quick] [--out ...]``), writes its JSON to
``benchmarks/results/`` (or ``--results DIR``) and its plots beside it; a progress line on
stderr shows which one runs, for how long, and the last line it logged.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

from ._common import UsageError

__all__ = ["register", "find_benchmarks", "load_suite"]


def find_benchmarks(given=None):
    """The ``benchmarks/`` folder: ``given``, else beside the dsssolver package, else ./."""
    import dsssolver

    candidates = [Path(given)] if given else [
        Path(dsssolver.__file__).resolve().parent.parent / "benchmarks",
        Path.cwd() / "benchmarks"]
    for c in candidates:
        if (c / "suite.py").is_file():
            return c
    raise UsageError("no benchmarks/ folder with suite.py found: dss bench runs the benchmarks "
                     "of a source checkout (give --benchmarks DIR)")


def load_suite(folder):
    """``SUITE`` from ``folder/suite.py`` (name -> script, out, about)."""
    spec = importlib.util.spec_from_file_location("_dss_bench_suite", folder / "suite.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.SUITE


def _command(folder, entry, quick, results):
    cmd = [sys.executable, str(folder / entry["script"])]
    if quick:
        cmd.append("--quick")
    if results and entry.get("out"):
        cmd += ["--out", str(Path(results) / entry["out"].format(q=".quick" if quick else ""))]
    return cmd


class _Ticker:
    """The progress line: [k/N] name, elapsed seconds, the benchmark's last stderr line."""

    def __init__(self, total, stream=None):
        self.total, self.stream = total, stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = 0.5 if self.tty else 30.0

    def show(self, k, name, t0, last, final=False):
        el = time.perf_counter() - t0
        bar = "#" * (20 * (k - 1) // self.total) + ">" + "." * (19 - 20 * (k - 1) // self.total)
        line = f"bench [{bar}] {k}/{self.total} {name} {el:5.0f}s  {last.strip()[:90]}"
        if self.tty:
            self.stream.write("\r" + line.ljust(160)[:160] + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _run_one(cmd, ticker, k, name):
    """Run one benchmark; return (exit code, seconds, its last stderr lines)."""
    t0 = time.perf_counter()
    tail = deque(maxlen=40)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            errors="replace")
    reader = threading.Thread(target=lambda: tail.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        while proc.poll() is None:
            ticker.show(k, name, t0, tail[-1] if tail else "")
            time.sleep(ticker.every if not ticker.tty else 0.5)
    except KeyboardInterrupt:
        proc.terminate()  # the benchmarks write what they have on SIGTERM / resume later
        proc.wait()
        raise
    reader.join(5)
    ticker.show(k, name, t0, tail[-1] if tail else "", final=True)
    return proc.returncode, time.perf_counter() - t0, list(tail)


def run(args):
    folder = find_benchmarks(args.benchmarks)
    suite = load_suite(folder)
    if args.list:
        for name, e in suite.items():
            print(f"{name:12s} {e['script']:22s} {e['about']}")
        return 0
    names = args.names or list(suite)
    unknown = [n for n in names if n not in suite]
    if unknown:
        raise UsageError(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(suite)}")
    if args.results:
        os.makedirs(args.results, exist_ok=True)
    ticker, failed = _Ticker(len(names)), []
    for k, name in enumerate(names, 1):
        code, sec, tail = _run_one(_command(folder, suite[name], args.quick, args.results),
                                   ticker, k, name)
        # a benchmark without --out always writes to benchmarks/results/ itself
        where = args.results if args.results and suite[name].get("out") else str(folder / "results")
        print(f"{name}: {'ok' if code == 0 else f'FAILED (exit {code})'} in {sec:.0f} s, "
              f"results in {where}")
        if code != 0:
            failed.append(name)
            sys.stderr.write("".join(tail[-15:]))
    return 1 if failed else 0


def register(sub):
    """Add ``bench`` to the sub-command parsers ``sub``."""
    c = sub.add_parser("bench", help="run the benchmark suite (of a source checkout), or parts",
                       description="Run benchmarks from benchmarks/suite.py; JSON and plots go "
                                   "to benchmarks/results/.")
    c.add_argument("names", nargs="*", metavar="NAME",
                   help="benchmarks to run (default: all; --list shows them)")
    c.add_argument("--quick", action="store_true", help="the small settings (CI, smoke runs)")
    c.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    c.add_argument("--results", metavar="DIR",
                   help="write the JSON and plots here instead of benchmarks/results/ "
                        "(benchmarks that take --out)")
    c.add_argument("--benchmarks", metavar="DIR", help="the benchmarks/ folder (default: found)")
    c.set_defaults(func=run)
