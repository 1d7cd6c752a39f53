"""`make bench`: generator timings, the fit of every catalog type, and local mode's figures.

Prints tables; asserts nothing (targets are read, not enforced, so a slow machine does not
turn the test suite red).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7


def median_seconds(argv: list[str], runs: int = RUNS) -> float:
    """Median wall time of a whole command, interpreter start-up and imports included."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_cli(settings: Path) -> None:
    himat = [sys.executable, "-m", "pangeo_himat"]
    with tempfile.TemporaryDirectory() as out:
        validate = median_seconds([*himat, "validate", "-f", str(settings)])
        render = median_seconds([*himat, "render", "-f", str(settings), "--out", out])
    print(f"himat validate: median {validate:.3f} s wall over {RUNS} runs (target < 0.5 s)")
    print(f"himat render:   median {render:.3f} s wall over {RUNS} runs (target < 0.5 s)")


def bench_fit() -> float:
    """Every catalog type as the only spot type, split into 1-4 auto-sized workers."""
    from pangeo_himat.fit.fit import compute_fit
    from pangeo_himat.fit.loader import load_settings
    from pangeo_himat.settings.catalog import load_catalog

    defaults = load_settings(None)
    print()
    print("fit of cpu/memory: auto, per spot type and workers per node. Each cell:")
    print("  Dask's share of allocatable CPU/mem | of what the DaemonSets leave CPU/mem")
    print(f"{'type':<14}" + "".join(f"{n:>31}" for n in range(1, 5)))
    worst, too_small = 1.0, []
    for name in sorted(load_catalog().types):
        cells = []
        for per_node in range(1, 5):
            settings = replace(
                defaults,
                lines={},
                spot=replace(defaults.spot, instance_types=(name,), max_price=None),
                workers=replace(defaults.workers, cpu="auto", memory="auto", per_node=per_node),
            )
            node = compute_fit(settings).spot[0]
            if node.workers_per_node == 0:
                cells.append("no room after DaemonSets")
                continue
            worst = min(
                worst, node.dask_cpu_share_after_system, node.dask_memory_share_after_system
            )
            cells.append(
                f"{node.dask_cpu_share:.1%}/{node.dask_memory_share:.1%} | "
                f"{node.dask_cpu_share_after_system:.1%}/"
                f"{node.dask_memory_share_after_system:.1%}"
            )
        if cells[0] == "no room after DaemonSets":
            too_small.append(name)
        print(f"{name:<14}" + "".join(f"{cell:>31}" for cell in cells))
    print(
        f"lowest share of what the DaemonSets leave, over types that hold a worker: "
        f"{worst:.2%} (target >= 95 %)"
    )
    if too_small:
        print(f"too small for any worker: {', '.join(too_small)}")
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settings", type=Path, default=ROOT / "settings.yaml")
    parser.add_argument("--skip-local", action="store_true", help="Only the generator figures.")
    args = parser.parse_args()
    bench_cli(args.settings.resolve())
    bench_fit()
    if not args.skip_local:
        sys.path.insert(0, str(ROOT / "scripts"))
        from bench_local import bench_local

        print()
        bench_local(args.settings.resolve())


if __name__ == "__main__":
    main()
