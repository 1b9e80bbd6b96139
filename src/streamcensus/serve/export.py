"""`streamcensus export --static DIR`: the dashboard as static files, for any static host.

The export holds the same pages, scripts and plotly.js as the live dashboard, and the API's
answers for a range of days precomputed as `data/<endpoint>/<key>.js` files that call
`SC.provide(key, data)`. Script files (not JSON fetched) so it also opens from `file://`.
Channel pages are exported for the channels with the most viewer-hours in the range.

Pages check `?day=`, `?window=` and `?channel=` as the live server does (the rules of
`params.py`) and load only the data files this export wrote, named from its own lists of
days, windows and channels, never from a parameter. Each page carries the dashboard's
Content-Security-Policy in a `<meta>` element. The export is meant to be published: its
files are 0644 in 0755 directories whatever the umask (it holds aggregates only, P3), so a
web server running as another user can read it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from streamcensus.config import Settings
from streamcensus.errors import UserError
from streamcensus.fsutil import PUBLIC_DIR, ensure_dir, write_public
from streamcensus.serve import channels, chatlists, community, followers, health, rankings
from streamcensus.serve import models as m
from streamcensus.serve.api import view_context
from streamcensus.serve.app import STATIC_DIR
from streamcensus.serve.pages import PAGES, PageContext, render_page
from streamcensus.serve.params import CHANNEL_PATTERN, WINDOWS
from streamcensus.serve.ranking_models import MEASURE_LABELS
from streamcensus.serve.rankings_api import GAME_PATTERN
from streamcensus.serve.reader import Reader, WarehouseBusy, open_reader
from streamcensus.serve.vendor import plotly_js

MARKER = "streamcensus-export.json"
GAME_PAGES = 20  # games with an exported page: the most hours watched over the range


@dataclass
class ExportReport:
    """What an export wrote."""

    out_dir: Path
    days: list[dt.date]
    channels: int = 0
    files: int = 0
    bytes: int = 0


def data_key(endpoint: str, query: dict[str, object]) -> str:
    """The data file key of an endpoint and query, as `SC.key` builds it in sc.js."""
    parts = [f"{name}-{query[name]}" for name in sorted(query) if query[name] is not None]
    return f"{endpoint}/{'_'.join(parts) if parts else 'index'}"


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} is a file: give a directory to --static")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise UserError(
            f"{out_dir} is not empty and holds no earlier export: choose an empty directory"
        )


def _range(loaded: list[dt.date], first: dt.date | None, last: dt.date | None) -> list[dt.date]:
    if not loaded:
        raise UserError(
            "no data loaded yet: run `make demo` (or `streamcensus load --all`) before exporting"
        )
    if first and last and first > last:
        raise UserError(f"--from {first} is after --to {last}")
    chosen = [d for d in loaded if (first is None or d >= first) and (last is None or d <= last)]
    if not chosen:
        raise UserError(
            f"no loaded day between {first or loaded[0]} and {last or loaded[-1]}: "
            f"the loaded days are {loaded[0]} to {loaded[-1]}"
        )
    return chosen


class _Writer:
    """Writes export files and counts them."""

    def __init__(self, out_dir: Path, report: ExportReport) -> None:
        self.out_dir = out_dir
        self.report = report

    def write(self, relative: str, data: bytes) -> None:
        write_public(self.out_dir / relative, data)
        self.report.files += 1
        self.report.bytes += len(data)

    def data(self, endpoint: str, query: dict[str, object], payload: BaseModel) -> None:
        key = data_key(endpoint, query)
        body = payload.model_dump_json()
        text = f"SC.provide({json.dumps(key)}, {body});\n"
        self.write(f"data/{key}.js", text.encode())


def _copy_assets(writer: _Writer) -> None:
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            writer.write(f"assets/{path.relative_to(STATIC_DIR).as_posix()}", path.read_bytes())
    writer.write("assets/vendor/plotly.min.js", plotly_js()[0])


def export_static(
    settings: Settings,
    out_dir: Path,
    first: dt.date | None = None,
    last: dt.date | None = None,
    channel_limit: int = 50,
    progress: Callable[[str], None] | None = None,
) -> ExportReport:
    """Write the dashboard with precomputed data for the loaded days in [first, last]."""
    _check_out_dir(out_dir)
    ctx = view_context(settings)
    try:
        with open_reader(settings.warehouse_path) as reader:
            days = _range(reader.loaded_days(), first, last)
            report = ExportReport(out_dir=out_dir, days=days)
            ensure_dir(out_dir, PUBLIC_DIR)
            if (out_dir / "data").is_dir():
                shutil.rmtree(out_dir / "data")
            writer = _Writer(out_dir, report)
            _copy_assets(writer)
            top = channels.top_channels(reader, days[0], days[-1], channel_limit)
            found = [
                c
                for c in (channels.find_channel(reader, t.channel_login) for t in top)
                if c and CHANNEL_PATTERN.fullmatch(c.channel_login)  # a login names its files
            ]
            report.channels = len(found)
            games = [
                g
                for g in rankings.top_games(reader, days[0], days[-1], GAME_PAGES)
                if GAME_PATTERN.fullmatch(g)  # an id names its files
            ]
            page_ctx = PageContext(
                days=days,
                k=ctx.k,
                interval_minutes=ctx.interval_minutes,
                exported_channels=[c.channel_login.lower() for c in found],
                exported_games=games,
            )
            for page in PAGES.values():
                if page.file:
                    writer.write(page.file, render_page(page, "static", page_ctx).encode())
            index = m.ChannelSearch(q="", channels=top)
            writer.data("channels", {}, index)
            for day in days:
                if progress is not None:
                    progress(f"export {day}")
                _export_day(reader, writer, day, found, ctx)
                _export_rankings(reader, writer, day, games, ctx)
            writer.write(
                MARKER,
                json.dumps(
                    {
                        "days": [d.isoformat() for d in days],
                        "channels": [c.channel_login for c in found],
                    },
                    indent=1,
                ).encode(),
            )
    except WarehouseBusy as exc:
        raise UserError(
            f"cannot read the warehouse now ({exc}); wait for the load to finish"
        ) from None
    return report


def _export_day(
    reader: Reader,
    writer: _Writer,
    day: dt.date,
    found: list[m.ChannelIdentity],
    ctx: community.ViewContext,
) -> None:
    query: dict[str, object] = {"day": day.isoformat()}
    writer.data("overview", query, community.overview(reader, day, ctx))
    writer.data("schedules", query, community.schedules(reader, day))
    writer.data("health", query, health.health(reader, day, 30, ctx))
    writer.data("chat-lists", query, chatlists.chat_lists(reader, day))
    for signal in community.SIGNALS:
        signalled = {**query, "signal": signal}
        writer.data("habits", signalled, community.habits(reader, day, signal))
    for window in WINDOWS:
        windowed = {**query, "window": window}
        writer.data("followers", windowed, followers.ranking(reader, day, window, 25))
        for signal in community.SIGNALS:
            chosen = {**windowed, "signal": signal}
            writer.data("map", chosen, channels.overlap_map(reader, day, window, 60, signal))
            writer.data("exposure", chosen, community.exposure(reader, day, window, signal))
    for channel in found:
        view = channels.channel_view(reader, channel, day, 4, ctx)
        writer.data(f"channels/{channel.channel_login.lower()}", query, view)


def _export_rankings(
    reader: Reader,
    writer: _Writer,
    day: dt.date,
    games: list[str],
    ctx: community.ViewContext,
) -> None:
    """The rankings and games pages' data of a day, for the queries their pages make."""
    for window in rankings.WINDOWS:
        for signal in community.SIGNALS:
            query: dict[str, object] = {"day": day.isoformat(), "window": window, "signal": signal}
            writer.data("games", query, rankings.games(reader, day, window, signal, 30))
            for kind in rankings.KINDS:
                for by in MEASURE_LABELS:
                    ranked = rankings.rankings(reader, day, window, kind, by, signal, 50)  # type: ignore[arg-type]
                    writer.data("rankings", {**query, "kind": kind, "by": by}, ranked)
            for game in games:
                name = rankings.find_game(reader, game) or game
                view = rankings.game_view(
                    reader, game, name, day, window, signal, ctx.interval_minutes
                )
                writer.data(f"games/{game}", query, view)
