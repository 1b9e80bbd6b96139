"""Load: raw lake days → DuckDB warehouse (idempotent, quarantine, retention) → models.

Public entry points: `load_days` (used by `streamcensus load`, `run` and `demo`),
`warehouse_status` (for `streamcensus status`), and the click command `load_command`
in `streamcensus.load.cli`.
"""

from streamcensus.load.loader import DayReport, LoadReport, load_days
from streamcensus.load.status import warehouse_status

__all__ = ["DayReport", "LoadReport", "load_days", "warehouse_status"]
