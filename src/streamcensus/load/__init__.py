"""Load: raw lake days → DuckDB warehouse (idempotent, quarantine, retention) → models.

Entry points: `loader.load_days` (used by `streamcensus load`, `run` and `demo`),
`status.warehouse_status` (for `streamcensus status`), and the click command
`cli.load_command`. Nothing is imported here, so `transform` can use `load.warehouse`
without a cycle.
"""
