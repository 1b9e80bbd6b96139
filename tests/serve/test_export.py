"""`streamcensus export --static DIR` and `streamcensus serve`: files, ranges, errors."""

from __future__ import annotations

import json
import os
import socket
import stat
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from serve.census import FRIDAY, THURSDAY
from serve.conftest import ClientFactory
from serve.test_privacy import keys, walk
from streamcensus.config import Settings
from streamcensus.context import AppContext
from streamcensus.errors import UserError
from streamcensus.serve.cli import bind_socket, dashboard_url, export_command, run_server
from streamcensus.serve.export import MARKER, data_key, export_static
from streamcensus.serve.pages import PAGES
from streamcensus.serve.params import CHANNEL_PATTERN, DAY_PATTERN, WINDOWS
from streamcensus.serve.security import content_security_policy
from streamcensus.serve.vendor import plotly_js
from streamcensus.transform.serving import is_viewer_column


def export(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(
        export_command, list(args), obj=AppContext(None, settings.data_dir), catch_exceptions=True
    )


def read_data(path: Path) -> tuple[str, Any]:
    """The key and payload of an export data file `SC.provide("key", {...});`."""
    text = path.read_text()
    assert text.startswith("SC.provide(") and text.endswith(");\n")
    key, _, body = text[len("SC.provide(") : -3].partition(", ")
    return json.loads(key), json.loads(body)


def test_data_keys_name_endpoint_and_sorted_query() -> None:
    assert data_key("overview", {"day": "2026-11-26"}) == "overview/day-2026-11-26"
    assert data_key("map", {"window": 7, "day": "2026-11-26"}) == "map/day-2026-11-26_window-7"
    assert data_key("channels", {}) == "channels/index"


async def test_the_export_holds_pages_assets_and_the_api_answers(
    census: Settings, client_for: ClientFactory, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    result = export(census, "--static", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("exported 2026-11-26 to 2026-11-27 (2 days, 5 channel pages): ")
    for page in (
        "index",
        "schedules",
        "map",
        "habits",
        "exposure",
        "followers",
        "chat-lists",
        "health",
        "channel",
    ):
        html = (out / f"{page}.html").read_text()
        assert '"mode":"static"' in html
        assert 'src="assets/vendor/plotly.min.js"' in html
        assert "/static/" not in html and "/api/" not in html
    assert (out / "assets" / "vendor" / "plotly.min.js").read_bytes() == plotly_js()[0]
    assert (out / "assets" / "js" / "sc.js").is_file()
    marker = json.loads((out / MARKER).read_text())
    assert marker["days"] == [THURSDAY.isoformat(), FRIDAY.isoformat()]
    # by viewer-hours over the range: 730, 80, 60 (30 + 30), 50, 1.25
    assert marker["channels"] == ["alice", "dave_tv", "carol", "bob", "eve"]
    async with client_for(census) as client:
        for url, file in [
            (f"/api/overview?day={THURSDAY}", f"overview/day-{THURSDAY}.js"),
            (f"/api/schedules?day={FRIDAY}", f"schedules/day-{FRIDAY}.js"),
            (
                f"/api/map?day={THURSDAY}&window=1&signal=chat_list",
                f"map/day-{THURSDAY}_signal-chat_list_window-1.js",
            ),
            (
                f"/api/map?day={FRIDAY}&window=1",
                f"map/day-{FRIDAY}_signal-chat_activity_window-1.js",
            ),
            (
                f"/api/exposure?day={THURSDAY}&window=7&signal=chat_list",
                f"exposure/day-{THURSDAY}_signal-chat_list_window-7.js",
            ),
            (f"/api/habits?day={FRIDAY}", f"habits/day-{FRIDAY}_signal-chat_activity.js"),
            (f"/api/chat-lists?day={FRIDAY}", f"chat-lists/day-{FRIDAY}.js"),
            (f"/api/followers?day={FRIDAY}&window=7", f"followers/day-{FRIDAY}_window-7.js"),
            (f"/api/health?day={FRIDAY}", f"health/day-{FRIDAY}.js"),
            (f"/api/channels/alice?day={FRIDAY}", f"channels/alice/day-{FRIDAY}.js"),
        ]:
            key, payload = read_data(out / "data" / file)
            assert key == file.removesuffix(".js")
            assert payload == (await client.get(url)).json(), url
    _, index = read_data(out / "data" / "channels" / "index.js")
    assert [c["channel_login"] for c in index["channels"]] == marker["channels"]


def test_exported_pages_carry_the_policy_and_the_servers_rules(
    census: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    export_static(census, out)
    policy = content_security_policy(meta=True)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    for page in (p for p in PAGES.values() if p.file):
        html = unescape((out / page.file).read_text())
        assert html.index(meta) < html.index("<script")  # before anything loads
        block = html.split('<script type="application/json" id="sc-config">')[1]
        config = json.loads(block.split("</script>")[0])
        assert config["rules"]["channel"] == CHANNEL_PATTERN.pattern
        assert config["rules"]["day"] == DAY_PATTERN.pattern
        assert config["rules"]["windows"] == list(WINDOWS)
        assert config["channels"] == ["alice", "dave_tv", "carol", "bob", "eve"]


def test_the_export_is_published_readable_whatever_the_umask(
    census: Settings, tmp_path: Path
) -> None:
    """The export holds aggregates only and is meant for a web server: 0644 / 0755."""
    saved = os.umask(0o077)
    try:
        export_static(census, tmp_path / "site")
    finally:
        os.umask(saved)
    everything = [tmp_path / "site", *(tmp_path / "site").rglob("*")]
    modes = {stat.S_IMODE(p.stat().st_mode) for p in everything if p.is_dir()}
    assert modes == {0o755}
    assert {stat.S_IMODE(p.stat().st_mode) for p in everything if p.is_file()} == {0o644}


def test_every_exported_number_obeys_k(census: Settings, tmp_path: Path) -> None:
    export_static(census, tmp_path / "site")
    files = list((tmp_path / "site" / "data").rglob("*.js"))
    # per day: overview, schedules, health, chat lists; habits per signal; followers per
    # window; map and exposure per window and signal; five channel pages; per ranking
    # window (1, 7, 30) and signal: games, rankings per kind and figure, the 4 games' pages
    assert len(files) == 1 + 2 * (4 + 2 + 2 + 2 * 2 * 2) + 2 * 5 + 2 * 3 * 2 * (1 + 2 * 5 + 4)
    for path in files:
        _, payload = read_data(path)
        assert not any(is_viewer_column(name) for name in keys(payload)), path
        for name, value in walk(payload):
            if name in {"chatters", "unique_chatters", "returning_chatters", "shared_chatters"}:
                assert value is None or value >= census.k, (path, name, value)


def test_a_range_and_a_channel_limit(census: Settings, tmp_path: Path) -> None:
    out = tmp_path / "thursday"
    result = export(census, "--static", str(out), "--from", "2026-11-26", "--to", "2026-11-26")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "data" / "overview").iterdir()) == [f"day-{THURSDAY}.js"]
    report = export_static(census, out, FRIDAY, None, channel_limit=1)  # over an export: fine
    assert (report.days, report.channels) == ([FRIDAY], 1)
    assert sorted(p.name for p in (out / "data" / "overview").iterdir()) == [f"day-{FRIDAY}.js"]
    assert [p.name for p in (out / "data" / "channels").iterdir() if p.is_dir()] == ["alice"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "26/11/2026"], "not a day: '26/11/2026' (expected YYYY-MM-DD)"),
        (["--from", "2026-11-27", "--to", "2026-11-26"], "--from 2026-11-27 is after --to"),
        (
            ["--from", "2027-01-01"],
            "no loaded day between 2027-01-01 and 2026-11-27: the loaded days are",
        ),
        (["--channels", "-1"], "-1 is not in the range"),
    ],
)
def test_bad_export_options_say_what_is_wrong(
    census: Settings, tmp_path: Path, args: list[str], message: str
) -> None:
    result = export(census, "--static", str(tmp_path / "site"), *args)
    assert result.exit_code != 0
    text = result.output + str(result.exception or "")
    assert message in text


def test_export_refuses_a_directory_it_did_not_write(census: Settings, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="is not empty and holds no earlier export"):
        export_static(census, tmp_path / "site")
    assert (tmp_path / "site" / "notes.txt").read_text() == "mine"


def test_export_without_data_says_how_to_get_some(empty: Settings, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no data loaded yet: run `make demo`"):
        export_static(empty, tmp_path / "site")


def test_serve_on_a_busy_port_is_a_one_line_error(census: Settings) -> None:
    taken = bind_socket("127.0.0.1", 0)
    port = taken.getsockname()[1]
    try:
        with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{port}"):
            run_server(census, "127.0.0.1", port)
    finally:
        taken.close()
    free = bind_socket("127.0.0.1", 0)
    assert free.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    free.close()


def test_the_dashboard_url_is_one_a_browser_opens() -> None:
    assert dashboard_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert dashboard_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert dashboard_url("::1", 8000) == "http://[::1]:8000"
