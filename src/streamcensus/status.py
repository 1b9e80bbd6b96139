"""`streamcensus status`: what the lake and the warehouse hold, per UTC day."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from streamcensus.config import Settings
from streamcensus.context import AppContext, lake_url_option, pass_app
from streamcensus.lake.manifest import LakeError
from streamcensus.lake.reader import day_status, list_snapshots, read_manifest
from streamcensus.lake.schema import RAW
from streamcensus.lake.storage import LakeStorage, LocalStorage
from streamcensus.lake.stores import open_lake
from streamcensus.load.status import warehouse_status


def chat_list_tokens(storage: LakeStorage, days: list[str]) -> dict[str, Any] | None:
    """The user tokens that read chat lists as the latest readable manifest records them
    (whose token, on what ground, ok or unusable and why); None before any snapshot."""
    for day in sorted(days, reverse=True):
        for snapshot in reversed(list_snapshots(storage, day)):
            if snapshot.manifest is None:
                continue
            try:
                record = read_manifest(storage, snapshot.manifest.key)
            except LakeError:
                continue
            return {"snapshot_id": record.snapshot_id, "readers": record.chat_list_readers}
    return None


def collect_status(settings: Settings) -> dict[str, Any]:
    """`{"days": {day: {...}}}`: lake counts per day, plus `loaded` and serving-table rows;
    `spooled_files`: snapshot files waiting locally for an object store that was away;
    `chat_list_tokens`: the chat-list readers of the latest snapshot."""
    storage = open_lake(settings, check=True)
    lake = day_status(storage)
    warehouse = warehouse_status(settings, [d for d, s in lake.items() if s["files"]])
    days: dict[str, dict[str, Any]] = {}
    for day in sorted(set(lake) | set(warehouse)):
        entry: dict[str, Any] = dict(lake.get(day, {}))
        entry.update(warehouse.get(day, {"loaded": False, "tables": {}}))
        days[day] = entry
    spooled = len(LocalStorage(settings.spool_dir).walk(RAW))
    return {
        "data_dir": str(settings.data_dir),
        "lake_url": storage.url,
        "spooled_files": spooled,
        "chat_list_tokens": chat_list_tokens(storage, [d for d, s in lake.items() if s["files"]]),
        "days": days,
    }


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@lake_url_option
@pass_app
def status_command(app: AppContext, as_json: bool, lake_url: str | None) -> None:
    """Per UTC day: snapshots complete/partial, presence observations, raw bytes, loaded."""
    settings = app.settings(lake_url=lake_url)
    status = collect_status(settings)
    if as_json:
        click.echo(json.dumps(status, indent=2, sort_keys=True))
        return
    if status["spooled_files"]:
        click.echo(
            f"{status['spooled_files']} snapshot file(s) wait in {settings.spool_dir} for the "
            "object store: the collector uploads them at its next snapshot"
        )
    if not status["days"]:
        click.echo(
            f"no snapshots in {status['lake_url']} yet: run `streamcensus collect` "
            "or `streamcensus demo --no-serve`"
        )
        return
    table = Table(title=f"streamcensus lake: {status['lake_url']}")
    table.add_column("day", no_wrap=True)
    for column in ("complete", "partial", "orphaned", "unreadable", "presence", "raw MB", "loaded"):
        table.add_column(column, justify="right")
    for day, entry in status["days"].items():
        table.add_row(
            day,
            f"{entry.get('snapshots_complete', 0):,}",
            f"{entry.get('snapshots_partial', 0):,}",
            f"{entry.get('snapshots_orphaned', 0):,}",
            f"{entry.get('manifests_unreadable', 0):,}",
            f"{entry.get('presence_observations', 0):,}",
            f"{entry.get('raw_bytes', 0) / 1e6:.2f}",
            "yes" if entry.get("loaded") else "no",
        )
    Console().print(table)
    tokens = status["chat_list_tokens"]
    if tokens is not None:
        if not tokens["readers"]:
            click.echo(f"chat lists at {tokens['snapshot_id']}: no user token reads them")
        for r in tokens["readers"]:
            state = "ok" if r["state"] == "ok" else f"UNUSABLE: {r['reason']}"
            click.echo(
                f"chat-list token of {r['login']} ({r['ground']}) at {tokens['snapshot_id']}: "
                f"{state}; {r['channels_read']} of {r['channels_listed']} chat lists read"
            )
