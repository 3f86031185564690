"""`make bench`: every benchmark, one after the other, each in a process of its own (so that
one benchmark's memory does not count in the next one's resident-memory figure)."""

import subprocess
import sys

MODULES = [
    "tests.perf.bench_sandbox",
    "tests.perf.bench_thumbnails",
    "tests.perf.bench_grid",
    "tests.perf.bench_review",
    "tests.perf.bench_compare",
    "tests.perf.bench_export",
    "tests.perf.bench_contact_sheet",
]


def main() -> int:
    failed = []
    for name in MODULES:
        print(f"\n== {name}", flush=True)
        if subprocess.run([sys.executable, "-m", name], check=False).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
