"""Hatch build hook: ship the reference results (``leaderboard/results/*.jsonl``, their
``*.verified.json`` marks and the README) in the wheel as ``dysts_bench/reference_results``.

A hook rather than a ``force-include`` of the folder: that would also ship the git-ignored
stored forecasts (``.forecasts/``) and per-task staging records (``.tasks/``).
"""

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PATTERNS = ("*.jsonl", "*.verified.json", "README.md")


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        if self.target_name != "wheel":
            return
        results = Path(self.root) / "leaderboard" / "results"
        for pattern in PATTERNS:
            for file in sorted(results.glob(pattern)):
                if file.is_file():
                    build_data["force_include"][str(file)] = f"dysts_bench/reference_results/{file.name}"
