"""Data checks run after every load: `transform/checks/*.sql` must all return no rows.

A check query returns the rows that break its rule (unique keys, not-null, ranges such as
peak ≥ average ≥ 0, every published count ≥ k). Failures are reported by check name and
row count only, never with the rows, since some checks read pseudonymous sessions (P3).
Besides the SQL checks, `viewer_columns` enforces that no serving table has a column that
identifies one viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streamcensus.errors import StreamcensusError, UserError
from streamcensus.transform.runner import strip_comments
from streamcensus.transform.serving import SERVING_TABLES, is_viewer_column
from streamcensus.warehouse.connection import Connection, table_columns, table_exists

CHECKS_DIR = Path(__file__).with_name("checks")


class CheckFailed(UserError):
    """A data check found rows breaking its rule: the load was rolled back."""


@dataclass(frozen=True)
class CheckResult:
    """One check: its name and how many rows broke the rule."""

    name: str
    failing_rows: int


def check_files(checks_dir: Path | None = None) -> list[Path]:
    """The check queries, by name."""
    return sorted((checks_dir or CHECKS_DIR).glob("*.sql"))


def viewer_columns(con: Connection) -> list[str]:
    """`table.column` of every serving-table column that would identify a viewer."""
    found: list[str] = []
    for table in SERVING_TABLES:
        if not table_exists(con, table):
            continue
        found += [
            f"{table}.{name}" for name, _ in table_columns(con, table) if is_viewer_column(name)
        ]
    return found


def run_checks(con: Connection, checks_dir: Path | None = None) -> list[CheckResult]:
    """Run every check; returns each check's count of failing rows."""
    results: list[CheckResult] = []
    files = check_files(checks_dir)
    if not files:
        raise StreamcensusError(
            f"no data checks in {checks_dir or CHECKS_DIR}: the installation is incomplete"
        )
    for path in files:
        query = strip_comments(path.read_text()).strip().rstrip(";")
        count = con.execute(f"select count(*) from ({query}) as failing").fetchall()[0][0]
        results.append(CheckResult(path.stem, int(count)))
    leaks = viewer_columns(con)
    results.append(CheckResult("assert_no_viewer_columns", len(leaks)))
    return results


def assert_checks(con: Connection, what: str, checks_dir: Path | None = None) -> list[CheckResult]:
    """Run the checks and raise `CheckFailed` naming every failing one."""
    results = run_checks(con, checks_dir)
    failed = [r for r in results if r.failing_rows]
    if failed:
        listed = ", ".join(f"{r.name} ({r.failing_rows} rows)" for r in failed)
        raise CheckFailed(f"data checks failed for {what}, nothing was loaded: {listed}")
    return results
