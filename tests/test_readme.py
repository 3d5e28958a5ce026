"""The README's shell commands run as written.

Every line of every ```bash block is run, in order, in one scratch directory, by bash,
with ``dysts-bench`` on the PATH (this checkout's code) and a scratch home (so the user
results directory is fresh). Skipped: ``make`` targets (they build a virtual environment)
and lines marked ``(long)``.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands(text: str) -> list[str]:
    """The cheap commands of the README's ```bash blocks, in order."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith("#") or "(long)" in line or line.startswith(("make ", "pip ")):
                continue
            commands.append(line)
    return commands


def test_readme_commands_are_found():
    commands = readme_commands((ROOT / "README.md").read_text())
    assert any(c.startswith("dysts-bench leaderboard") for c in commands)
    assert any(c.startswith("dysts-bench score") for c in commands)
    assert not any("(long)" in c or c.startswith("make ") for c in commands)


@pytest.mark.slow
def test_readme_commands_run_as_written(tmp_path):
    pytest.importorskip("dysts_bench.dataset")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "dysts-bench"
    shim.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m dysts_bench \"$@\"\n")
    shim.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    work = tmp_path / "work"
    work.mkdir()
    # the commands are typed at the repository root: its results are there (read only here)
    (work / "leaderboard").symlink_to(ROOT / "leaderboard")
    env = {k: v for k, v in os.environ.items() if k not in ("DYSTS_BENCH_RESULTS_DIR", "XDG_DATA_HOME")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", HOME=str(tmp_path / "home"),
               PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1",
               # the compile cache stays where it was (a fresh home would recompile everything)
               DYSTS_BENCH_CACHE_DIR=os.environ.get("DYSTS_BENCH_CACHE_DIR",
                                                    str(Path.home() / ".cache" / "dysts-bench")))
    for command in readme_commands((ROOT / "README.md").read_text()):
        done = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"README command failed: {command}\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}"
