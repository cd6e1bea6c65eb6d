"""Benchmark the reference convolution layer against plain loops and PyTorch (CPU, float64).

Problem: a batch of N=8 images 32x32x16 -> 32 filters 3x3, stride 1, padding 1, float64,
``conv_forward`` then ``conv_backward``. Columns:

* ``reference``: ``cnn_solutions.conv_forward`` / ``conv_backward`` (NHWC).
* ``torch``: ``torch.nn.functional.conv2d`` with autograd (NCHW); layouts are converted
  before the timed region, so only the convolution itself is timed. torch is optional.
* ``loops``: the plain-loop versions from ``tests/loops.py`` (run fewer times).

NumPy's BLAS (through threadpoolctl) and torch use the same thread count, printed at the top.
Results are checked to agree (max abs difference) before anything is timed.

How it was run for the figures in the report (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, if set
in the environment, mis-tune OpenBLAS; they are unset together, for this command only)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_reference.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/bench_reference.py \\
        --threads 2

torch is not a project dependency; install it for a comparison with
``.venv/bin/pip install torch``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import cnn_solutions as cs

ROOT = Path(__file__).resolve().parents[1]
N, H, W, C_IN, C_OUT, K, STRIDE, PAD = 8, 32, 32, 16, 32, 3, 1, 1


def make_problem(seed: int = 0) -> dict[str, np.ndarray]:
    """Random float64 input, filters, bias and upstream gradient (NHWC)."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((N, H, W, C_IN)),
        "w": rng.standard_normal((K, K, C_IN, C_OUT)),
        "b": rng.standard_normal(C_OUT),
        "dout": rng.standard_normal((N, H, W, C_OUT)),
    }


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reference_runner(p: dict) -> dict[str, Callable]:
    """Forward and backward closures for the reference (the cache comes from one forward)."""
    _, cache = cs.conv_forward(p["x"], p["w"], p["b"], STRIDE, PAD)
    return {
        "forward": lambda: cs.conv_forward(p["x"], p["w"], p["b"], STRIDE, PAD),
        "backward": lambda: cs.conv_backward(p["dout"], cache),
    }


def reference_results(p: dict) -> tuple[np.ndarray, ...]:
    out, cache = cs.conv_forward(p["x"], p["w"], p["b"], STRIDE, PAD)
    return (out, *cs.conv_backward(p["dout"], cache))


def loops_module():
    """``tests/loops.py``, the independent plain-loop implementation."""
    sys.path.insert(0, str(ROOT / "tests"))
    import loops

    return loops


def loops_runner(p: dict) -> dict[str, Callable]:
    loops = loops_module()
    return {
        "forward": lambda: loops.conv_forward(p["x"], p["w"], p["b"], STRIDE, PAD),
        "backward": lambda: loops.conv_backward(p["dout"], p["x"], p["w"], STRIDE, PAD),
    }


def loops_results(p: dict) -> tuple[np.ndarray, ...]:
    loops = loops_module()
    out = loops.conv_forward(p["x"], p["w"], p["b"], STRIDE, PAD)
    return (out, *loops.conv_backward(p["dout"], p["x"], p["w"], STRIDE, PAD))


def torch_setup(p: dict, torch) -> dict:
    """NCHW float64 tensors, converted once, outside every timed region."""
    return {
        "x": torch.from_numpy(np.ascontiguousarray(p["x"].transpose(0, 3, 1, 2))).requires_grad_(),
        "w": torch.from_numpy(np.ascontiguousarray(p["w"].transpose(3, 2, 0, 1))).requires_grad_(),
        "b": torch.from_numpy(p["b"].copy()).requires_grad_(),
        "dout": torch.from_numpy(np.ascontiguousarray(p["dout"].transpose(0, 3, 1, 2))),
    }


def torch_runner(t: dict, torch) -> dict[str, Callable]:
    conv = torch.nn.functional.conv2d

    def forward():
        with torch.no_grad():
            return conv(t["x"], t["w"], t["b"], stride=STRIDE, padding=PAD)

    # Backward is timed on its own: each run gets a fresh graph built before the clock starts.
    state: dict = {}

    def build_graph():
        state["out"] = conv(t["x"], t["w"], t["b"], stride=STRIDE, padding=PAD)

    def backward():
        return torch.autograd.grad(state["out"], (t["x"], t["w"], t["b"]), t["dout"])

    return {"forward": forward, "backward": backward, "build_graph": build_graph}


def torch_backward_time(run: dict, repeats: int) -> float:
    run["build_graph"]()
    run["backward"]()  # warm-up
    times = []
    for _ in range(repeats):
        run["build_graph"]()
        start = time.perf_counter()
        run["backward"]()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_results(t: dict, torch) -> tuple[np.ndarray, ...]:
    """Output and gradients converted back to the contract's NHWC / (kh, kw, C_in, C_out)."""
    out = torch.nn.functional.conv2d(t["x"], t["w"], t["b"], stride=STRIDE, padding=PAD)
    dx, dw, db = torch.autograd.grad(out, (t["x"], t["w"], t["b"]), t["dout"])
    return (
        out.detach().numpy().transpose(0, 2, 3, 1),
        dx.numpy().transpose(0, 2, 3, 1),
        dw.numpy().transpose(2, 3, 1, 0),
        db.numpy(),
    )


def max_abs_diffs(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> str:
    names = ("out", "dx", "dw", "db")
    diffs = (np.max(np.abs(u - v)) for u, v in zip(a, b, strict=True))
    return "  ".join(f"{n} {d:.1e}" for n, d in zip(names, diffs, strict=True))


def limit_threads(threads: int):
    """Limit NumPy's BLAS (and any OpenMP pool) to ``threads``; returns the limiter or None."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=threads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for BLAS and torch")
    parser.add_argument("--repeats", type=int, default=15, help="timed runs of reference/torch")
    parser.add_argument("--loop-repeats", type=int, default=1, help="timed runs of the loops")
    parser.add_argument("--no-loops", action="store_true", help="skip the slow loop column")
    args = parser.parse_args(argv)

    limiter = limit_threads(args.threads)
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(args.threads)

    print(f"problem: N={N}, {H}x{W}x{C_IN} -> {C_OUT} filters {K}x{K}, stride {STRIDE}, ", end="")
    print(f"padding {PAD}, float64")
    print(f"threads: {args.threads} (numpy BLAS via threadpoolctl: ", end="")
    print(f"{'yes' if limiter is not None else 'NOT AVAILABLE'}; torch: ", end="")
    print(f"{torch.get_num_threads() if torch is not None else 'n/a'})")
    env = {k: os.environ.get(k, "unset") for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    print(f"numpy {np.__version__}; env {env}")
    if torch is None:
        print("torch: not importable, the torch column is skipped")
    else:
        print(f"torch {torch.__version__}")

    p = make_problem()
    ref = reference_results(p)
    times: dict[str, dict[str, float]] = {}
    run = reference_runner(p)
    times["reference"] = {k: median_time(f, args.repeats) for k, f in run.items()}

    if torch is not None:
        t = torch_setup(p, torch)
        print(f"agreement reference vs torch: {max_abs_diffs(ref, torch_results(t, torch))}")
        trun = torch_runner(t, torch)
        times["torch"] = {
            "forward": median_time(trun["forward"], args.repeats),
            "backward": torch_backward_time(trun, args.repeats),
        }
    if not args.no_loops:
        print(f"agreement reference vs loops: {max_abs_diffs(ref, loops_results(p))}")
        lrun = loops_runner(p)
        times["loops"] = {k: median_time(f, args.loop_repeats, 0) for k, f in lrun.items()}

    print_table(times, args)
    return 0


def print_table(times: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    for impl in times:
        times[impl]["total"] = times[impl]["forward"] + times[impl]["backward"]
    reps = {"reference": args.repeats, "torch": args.repeats, "loops": args.loop_repeats}
    print()
    print(f"median wall time in ms ({', '.join(f'{k}: {reps[k]} runs' for k in times)})")
    print(f"{'':10}" + "".join(f"{impl:>12}" for impl in times))
    for part in ("forward", "backward", "total"):
        print(f"{part:10}" + "".join(f"{times[impl][part] * 1e3:12.2f}" for impl in times))
    print()
    ref = times["reference"]
    for other in ("torch", "loops"):
        if other in times:
            ratios = "  ".join(f"{k} {times[other][k] / ref[k]:.2f}x" for k in ref)
            print(f"{other} time / reference time (>1: reference faster): {ratios}")


if __name__ == "__main__":
    raise SystemExit(main())
