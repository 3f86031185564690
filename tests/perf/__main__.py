"""`make bench`: every benchmark, one after the other, printing figures."""

from tests.perf import bench_grid

MODULES = ["tests.perf.bench_sandbox", "tests.perf.bench_thumbnails"]


def main() -> None:
    import importlib

    for name in MODULES:
        print(f"\n== {name}", flush=True)
        importlib.import_module(name).main()
    print("\n== tests.perf.bench_grid", flush=True)
    bench_grid.main()


if __name__ == "__main__":
    main()
