"""The line reader: the hand-written PRIVMSG path agrees with irctokens on every line."""

from __future__ import annotations

import numpy as np
import pytest
from irctokens.line import tokenise as irctokens_tokenise

from streamcensus.collect.chat.connection import MAX_COMMAND, _command_lines
from streamcensus.collect.chat.lines import privmsg, room_of_broken, tokenise
from streamcensus.simulator.chat.model import ChatModel, Kind
from streamcensus.simulator.chat.render import Renderer
from streamcensus.simulator.chat.server import _MALFORMED
from streamcensus.simulator.protocol import World

from .helpers import EVENING


@pytest.fixture(scope="module")
def rendered(small_world: World) -> list[tuple[int, bytes]]:
    """(kind, line without CR LF) of every event of a busy tick, as the simulator sends it."""
    model = ChatModel(small_world)
    events = model.tick(model.tick_of(EVENING))
    lines = Renderer(small_world, int(small_world.seed)).render(
        events, np.arange(len(events), dtype=np.int64)
    )
    return [(int(k), raw.rstrip(b"\r\n")) for k, raw in zip(events.kind, lines, strict=True)]


def test_fast_path_equals_irctokens_on_every_rendered_line(
    rendered: list[tuple[int, bytes]],
) -> None:
    kinds = {k for k, _ in rendered}
    assert {Kind.PRIVMSG, Kind.USERNOTICE, Kind.CLEARCHAT} <= kinds
    for kind, raw in rendered:
        fast = privmsg(raw)
        line = irctokens_tokenise(raw)
        if kind != Kind.PRIVMSG:
            assert fast is None and line.command in ("USERNOTICE", "CLEARCHAT")
            continue
        assert fast is not None, raw
        assert line.tags is not None and line.source is not None
        assert fast.room_id == line.tags["room-id"]
        assert fast.ts_ms == int(line.tags["tmi-sent-ts"])
        assert fast.user_id == line.tags["user-id"]
        assert fast.login == line.source.split("!")[0]


def test_the_text_is_never_decoded() -> None:
    raw = (
        b"@badge-info=;badges=;color=;display-name=Zo\\sE;emotes=;id=x;mod=0;room-id=42;"
        b"tmi-sent-ts=1795810200123;user-id=7;user-type= :zoe!zoe@zoe.tmi.twitch.tv "
        b"PRIVMSG #chan :\xff\xfe not utf-8 \xc3"
    )
    found = privmsg(raw)
    assert found is not None and (found.room_id, found.user_id, found.login) == ("42", "7", "zoe")
    assert found.ts_ms == 1795810200123


@pytest.mark.parametrize("variant", range(len(_MALFORMED)))
def test_the_simulators_malformed_lines_are_not_read(variant: int) -> None:
    raw = _MALFORMED[variant].rstrip(b"\r\n")
    assert privmsg(raw) is None
    assert tokenise(raw) is None
    assert room_of_broken(raw) is None


def test_a_line_cut_anywhere_is_read_whole_or_not_at_all(
    rendered: list[tuple[int, bytes]],
) -> None:
    raw = next(r for k, r in rendered if k == Kind.PRIVMSG)
    whole = privmsg(raw)
    assert whole is not None
    command_at = raw.index(b" PRIVMSG ")
    for cut in range(1, len(raw)):
        part = raw[:cut]
        fast = privmsg(part)
        if cut >= command_at + len(b" PRIVMSG "):
            assert fast == whole  # author, room and time are all there: the text is not needed
        else:
            assert fast is None
            room = room_of_broken(part)
            assert room in (None, whole.room_id)  # never a wrong room from a cut id
        tokenise(part)  # never raises


def test_room_is_recovered_only_from_a_complete_tag() -> None:
    assert room_of_broken(b"@badges=;room-id=808481522;subscriber=1;tmi-sent") == "808481522"
    assert room_of_broken(b"@badges=;room-id=80848") is None


def test_join_lines_stay_under_the_irc_line_limit() -> None:
    logins = [f"channel_with_a_long_name_{i:02d}" for i in range(40)]
    text = _command_lines("JOIN", logins)
    lines = text.split("\r\n")[:-1]
    assert len(lines) > 1 and all(len(line) + 2 <= MAX_COMMAND for line in lines)
    assert [x.lstrip("#") for line in lines for x in line[5:].split(",")] == logins
