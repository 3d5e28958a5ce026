"""The results schema: constants that the runner writes and the leaderboard reads.

Dependency-free (no numpy, no other module of this package), so that any layer may
import it without pulling in the runner.
"""

#: Version of the scoring protocol (what a record means); bump when scores would change.
PROTOCOL_VERSION = "2"  # 2: running-sMAPE and pointwise-nRMSE VPTs, long-term statistics, float32 forecasts,
#                        dt in units of the dominant period for entries that do not declare uses_system_name
#: Version of the record layout.
RECORD_SCHEMA = 1
#: Every status a task record can have.
STATUSES = ("ok", "nonfinite", "bad_shape", "error", "timeout", "memory", "crashed", "leak")
#: Statuses that carry scores.
SCORED = ("ok", "nonfinite")
#: Lyapunov-time horizons at which errors are recorded (``metrics.horizon_scores``).
DEFAULT_HORIZONS = (0.5, 1, 2, 4, 8, 16, 24)
