"""Start-up time: `ratchet --version` and `ratchet --help`, and what `import ratchet.cli` imports.

Times (median of ``--runs`` new processes, after one unmeasured warm-up each) the installed
``ratchet`` executable (``python -m ratchet`` when there is none) and, for reference, a bare
``python -c pass``. Then lists the top cumulative imports of ``python -X importtime -c
"import ratchet.cli"`` and of the real ``ratchet --help`` process (``PYTHONPROFILEIMPORTTIME``),
and says whether any heavy module (mem0, github, git, httpx) was imported: none may be.

Run on demand: ``python benchmarks/bench_startup.py [--runs N] [--top K]``. Prints Markdown
tables (target: median ≤ 0.3 s). Exits 1 if a heavy module is imported at start-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
TARGET_SECONDS = 0.3
HEAVY = ("mem0", "github", "git", "httpx")
ALSO_WATCHED = ("httpcore", "pydantic", "yaml", "rich", "openai", "qdrant_client")


def ratchet_cmd() -> list[str]:
    exe = VENV_BIN / "ratchet"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ratchet"]


def clean_env(home: Path) -> dict[str, str]:
    """A user's minimal environment (no PYTHON* variables from this shell)."""
    return {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT / "src"),
    }


def median_wall(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float, float]:
    """(median, min, max) wall seconds of ``argv`` over ``runs`` processes; raises
    RuntimeError if it fails."""
    times: list[float] = []
    for n in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, capture_output=True, stdin=subprocess.DEVNULL)
        took = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{argv} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
        if n:  # the first run warms the page cache and is not counted
            times.append(took)
    return statistics.median(times), min(times), max(times)


def parse_importtime(stderr: str) -> list[tuple[str, int, int, bool]]:
    """(module, self µs, cumulative µs, top level?) for each ``-X importtime`` line."""
    rows: list[tuple[str, int, int, bool]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = line[len("import time:"):].split("|", 2)
        top = not name[1:].startswith(" ")  # nested imports are indented by two spaces
        rows.append((name.strip(), int(self_us), int(cumulative), top))
    return rows


def report_imports(label: str, rows: list[tuple[str, int, int, bool]], top: int) -> list[str]:
    """Print the top cumulative imports and the watched packages; return heavy ones found."""
    top_level = {name.split(".")[0] for name, _, _, _ in rows}
    total = sum(cum for _, _, cum, outer in rows if outer)
    print(f"### {label}: {len(rows)} modules, {total / 1e6:.3f} s of imports\n")
    print("| module | cumulative ms | self ms |")
    print("|---|---|---|")
    for name, self_us, cum, _ in sorted(rows, key=lambda r: -r[2])[:top]:
        print(f"| `{name}` | {cum / 1000:.1f} | {self_us / 1000:.1f} |")
    heavy = [m for m in HEAVY if m in top_level]
    print()
    for m in (*HEAVY, *ALSO_WATCHED):
        kind = "heavy" if m in HEAVY else "watched"
        state = "IMPORTED" if m in top_level else "not imported"
        print(f"- {kind} `{m}`: {state}")
    print()
    return heavy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="processes per command (default 20)")
    parser.add_argument("--top", type=int, default=15, help="imports listed (default 15)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be ≥ 1")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = clean_env(Path(tmp))
        cases = [
            ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"]),
            ("ratchet --version", [*ratchet_cmd(), "--version"]),
            ("ratchet --help", [*ratchet_cmd(), "--help"]),
        ]
        results = [(label, median_wall(argv, env, args.runs)) for label, argv in cases]
        cli = subprocess.run([sys.executable, "-X", "importtime", "-c", "import ratchet.cli"],
                             env=env, capture_output=True, text=True, check=True)
        helped = subprocess.run([*ratchet_cmd(), "--help"], env={**env,
                                "PYTHONPROFILEIMPORTTIME": "1"}, capture_output=True, text=True,
                                check=True)

    print(f"python {sys.version.split()[0]}; {os.cpu_count()} CPUs; "
          f"1-min load {os.getloadavg()[0]:.2f}; executable: {' '.join(ratchet_cmd())}\n")
    print("| command | runs | median s | min s | max s | target |")
    print("|---|---|---|---|---|---|")
    met = True
    for label, (med, lo, hi) in results:
        target = ""
        if label.startswith("ratchet"):
            ok = med <= TARGET_SECONDS
            met &= ok
            target = f"≤ {TARGET_SECONDS} s ({'met' if ok else 'NOT met'})"
        print(f"| `{label}` | {args.runs} | {med:.3f} | {lo:.3f} | {hi:.3f} | {target} |")
    print()
    heavy = report_imports('`python -X importtime -c "import ratchet.cli"`',
                           parse_importtime(cli.stderr), args.top)
    heavy += report_imports("`ratchet --help` (PYTHONPROFILEIMPORTTIME=1)",
                            parse_importtime(helped.stderr), args.top)
    print(f"start-up target ≤ {TARGET_SECONDS} s: {'met' if met else 'NOT met'}; heavy modules "
          f"at start-up: {', '.join(sorted(set(heavy))) or 'none'}")
    return 1 if heavy else 0


if __name__ == "__main__":
    raise SystemExit(main())
