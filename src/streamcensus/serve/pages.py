"""The dashboard's HTML pages: one template each, drawn client-side from the JSON API.

The same templates render for the live server (`mode="live"`: data from `/api/`) and for
the static export (`mode="static"`: data from precomputed `data/*.js` files, which load
from `file://` too). Pages hold no inline script: their config travels as a JSON data block
that `sc.js` reads, with the parameter rules of `params.py`, so that the export checks its
query parameters as the server does. Exported pages carry the Content-Security-Policy in a
`<meta>` element, since a static host may send no header.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import jinja2

from streamcensus import __version__
from streamcensus.serve import models as m
from streamcensus.serve.params import CHANNEL_PATTERN, CHANNEL_RULE, DAY_PATTERN, WINDOWS
from streamcensus.serve.ranking_models import MEASURE_LABELS
from streamcensus.serve.rankings_api import GAME_PATTERN, GAME_RULE
from streamcensus.serve.security import content_security_policy
from streamcensus.transform.rankings import KINDS
from streamcensus.transform.rankings import WINDOWS as RANKING_WINDOWS

Mode = Literal["live", "static"]


@dataclass(frozen=True)
class Page:
    """A dashboard page: its name, title, live URL, exported file, and whether it is in the nav."""

    name: str
    title: str
    path: str
    file: str
    nav: bool = True


PAGES: dict[str, Page] = {
    p.name: p
    for p in (
        Page("overview", "Overview", "/", "index.html"),
        Page("schedules", "Schedules", "/schedules", "schedules.html"),
        Page("rankings", "Rankings", "/rankings", "rankings.html"),
        Page("games", "Games", "/games", "games.html"),
        Page("map", "Community map", "/map", "map.html"),
        Page("habits", "Audience habits", "/habits", "habits.html"),
        Page("exposure", "Exposure", "/exposure", "exposure.html"),
        Page("followers", "Followers", "/followers", "followers.html"),
        Page("chatlists", "Chat lists read", "/chat-lists", "chat-lists.html"),
        Page("health", "Pipeline health", "/health", "health.html"),
        Page("channel", "Channel", "/channels/", "channel.html", nav=False),
        Page("channels", "Channels", "/channels", "", nav=False),
    )
}


@dataclass
class PageContext:
    """What a page shows besides its data: the loaded days, the choice made, messages."""

    days: list[dt.date]
    k: int
    interval_minutes: int
    day: dt.date | None = None
    channel: m.ChannelIdentity | None = None
    error: str | None = None
    query: str = ""
    matches: list[m.ChannelMatch] = field(default_factory=list)
    exported_channels: list[str] = field(default_factory=list)  # static: channel pages written
    exported_games: list[str] = field(default_factory=list)  # static: game ids with a page


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("streamcensus.serve", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def links(mode: Mode) -> dict[str, str]:
    """Where each page lives: server paths, or file names of the export."""
    if mode == "live":
        return {p.name: p.path for p in PAGES.values()}
    return {p.name: p.file for p in PAGES.values() if p.file}


def json_script(value: object) -> str:
    """JSON safe inside a `<script type="application/json">` element: no `<`, `>` or `&`
    can end the element or open a comment, whatever the strings hold."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(page: Page, mode: Mode, ctx: PageContext) -> str:
    """The HTML of `page`."""
    hrefs = links(mode)
    config: dict[str, Any] = {
        "mode": mode,
        "page": page.name,
        "apiBase": "/api/" if mode == "live" else None,
        "dataBase": "data/",
        "days": [d.isoformat() for d in ctx.days],
        "latest": ctx.days[-1].isoformat() if ctx.days else None,
        "day": ctx.day.isoformat() if ctx.day else None,
        "channel": ctx.channel.channel_login if ctx.channel else None,
        "k": ctx.k,
        "intervalMinutes": ctx.interval_minutes,
        "links": hrefs,
        "rules": {
            "channel": CHANNEL_PATTERN.pattern,
            "channelText": CHANNEL_RULE,
            "day": DAY_PATTERN.pattern,
            "windows": list(WINDOWS),
            "game": GAME_PATTERN.pattern,
            "gameText": GAME_RULE,
            "rankingWindows": list(RANKING_WINDOWS),
            "measures": MEASURE_LABELS,
            "kinds": list(KINDS),
        },
        "channels": ctx.exported_channels if mode == "static" else None,
        "games": ctx.exported_games if mode == "static" else None,
        "signals": m.SIGNAL_LABELS,
    }
    prefix = "/static/" if mode == "live" else "assets/"
    vendor = "/vendor/" if mode == "live" else "assets/vendor/"
    title = ctx.channel.channel_name if ctx.channel else page.title
    template = _ENV.get_template(f"{page.name}.html")
    return template.render(
        page=page,
        title=title,
        mode=mode,
        nav=[p for p in PAGES.values() if p.nav],
        hrefs=hrefs,
        ctx=ctx,
        has_data=bool(ctx.days),
        config_json=json_script(config),
        csp=content_security_policy(meta=True) if mode == "static" else None,
        asset=lambda path: prefix + path,
        vendor=lambda path: vendor + path,
        version=__version__,
    )


def render_error(mode: Mode, ctx: PageContext, status: int) -> str:
    """A page that only says what went wrong."""
    page = Page("error", "Not found" if status == 404 else "Bad request", "", "", nav=False)
    return render_page(page, mode, ctx)
