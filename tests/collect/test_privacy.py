"""Privacy at the door: keyed pseudonyms, opt-outs, known bots, key storage and rotation."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import stat
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from streamcensus.clock import SimClock
from streamcensus.collect.privacy import Pseudonymiser, is_optout_channel, normalise_optout
from streamcensus.errors import ConfigError
from streamcensus.keys import KEYS_FILE, KeyStore, PseudonymKey
from streamcensus.lake.schema import CHATTERS_SCHEMA
from streamcensus.timeutil import UTC

T0 = dt.datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
KEY_A = PseudonymKey("ka", T0, bytes(range(32)))
KEY_B = PseudonymKey("kb", T0, bytes(range(1, 33)))


def reference(secret: bytes, user_id: str) -> int:
    """HMAC-SHA256 of the user id, first 8 bytes as a signed big-endian integer."""
    digest = hmac.new(secret, user_id.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# ---------------------------------------------------------------- pseudonyms


def test_pseudonyms_are_hmac_sha256_of_the_user_id_as_int64() -> None:
    ids = ["1", "42", "123456789", "987654321012"]
    batch = Pseudonymiser(KEY_A, [], []).pseudonymise(ids, ["a", "b", "c", "d"])
    assert batch.viewer.dtype == np.int64
    assert batch.viewer.tolist() == [reference(KEY_A.secret, i) for i in ids]
    assert batch.key_id == "ka"
    assert (batch.optout_dropped, batch.duplicates_dropped) == (0, 0)


def test_pseudonyms_are_stable_for_a_key_and_differ_across_keys() -> None:
    ids = [str(i) for i in range(1000, 1100)]
    logins = [f"user{i}" for i in ids]
    first = Pseudonymiser(KEY_A, [], []).pseudonymise(ids, logins).viewer
    again = Pseudonymiser(KEY_A, [], []).pseudonymise(ids, logins).viewer
    other = Pseudonymiser(KEY_B, [], []).pseudonymise(ids, logins).viewer
    assert first.tolist() == again.tolist()
    assert len(set(first.tolist()) & set(other.tolist())) == 0
    assert len(set(first.tolist())) == 100


def test_pseudonym_follows_the_id_not_the_login() -> None:
    p = Pseudonymiser(KEY_A, [], [])
    before = p.pseudonymise(["77"], ["old_name"]).viewer.tolist()
    after = p.pseudonymise(["77"], ["new_name"]).viewer.tolist()
    assert before == after == [p.pseudonym("77")]


def test_long_keys_follow_rfc_2104() -> None:
    key = PseudonymKey("long", T0, bytes(range(100)))
    assert Pseudonymiser(key, [], []).pseudonym("5") == reference(key.secret, "5")


def test_no_login_or_id_text_in_the_output() -> None:
    ids = ["31415926", "27182818"]
    logins = ["alice_secret", "bob_secret"]
    batch = Pseudonymiser(KEY_A, [], ["nightbot"]).pseudonymise(ids, logins)
    sid, ts = "20261127T2005Z", dt.datetime(2026, 11, 27, 20, 5, tzinfo=UTC)
    table = batch.chatters_table(sid, ts, "555")
    assert table.schema == CHATTERS_SCHEMA
    text = repr(table.to_pylist()) + repr(batch)
    for needle in [*ids, *logins]:
        assert needle not in text
    assert batch.bot_name.to_pylist() == [None, None]


def test_empty_list() -> None:
    batch = Pseudonymiser(KEY_A, ["x"], ["nightbot"]).pseudonymise([], [])
    assert len(batch) == 0
    assert batch.viewer.dtype == np.int64
    table = batch.chatters_table("20261127T2005Z", T0, "1")
    assert table.num_rows == 0


def test_lists_of_different_length_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        Pseudonymiser(KEY_A, [], []).pseudonymise(["1", "2"], ["a"])


def test_repeated_ids_are_kept_once() -> None:
    batch = Pseudonymiser(KEY_A, [], []).pseudonymise(["1", "2", "1", "3", "2"], list("abacb"))
    assert batch.duplicates_dropped == 2
    assert batch.viewer.tolist() == [reference(KEY_A.secret, i) for i in ["1", "2", "3"]]


# ---------------------------------------------------------------- opt-outs and bots


class RecordingPseudonymiser(Pseudonymiser):
    """Remembers which ids reached the hash."""

    hashed: list[str]

    def _digest_all(self, user_ids):  # type: ignore[no-untyped-def]
        self.hashed = list(user_ids)
        return super()._digest_all(self.hashed)


def test_optout_viewers_are_dropped_before_hashing() -> None:
    p = RecordingPseudonymiser(KEY_A, ["Carol", "  DAVE ", "900"], [])
    ids = ["100", "200", "300", "400", "900", "500"]
    logins = ["alice", "carol", "bob", "Dave", "erin", "CAROL"]
    batch = p.pseudonymise(ids, logins)
    # carol (twice, any case), dave (by login), erin (by user id 900)
    assert batch.optout_dropped == 4
    assert p.hashed == ["100", "300"]
    assert batch.viewer.tolist() == [reference(KEY_A.secret, "100"), reference(KEY_A.secret, "300")]


def test_known_bots_are_flagged_and_named_others_are_not() -> None:
    p = Pseudonymiser(KEY_A, [], ["nightbot", "StreamElements"])
    batch = p.pseudonymise(["1", "2", "3", "4"], ["Nightbot", "viewer", "streamelements", "bot99"])
    assert batch.is_bot.tolist() == [True, False, True, False]
    assert batch.bot_name.to_pylist() == ["nightbot", None, "streamelements", None]
    assert batch.viewer.tolist()[0] == reference(KEY_A.secret, "1")


def test_known_bots_by_id_are_found_wherever_their_pseudonym_sorts() -> None:
    """Bots resolved to ids are matched by pseudonym (a sorted search): every bot in a list
    of 2,000, whatever its pseudonym's rank among the bots' and the viewers', and no one else."""
    bot_ids = {str(i): f"bot{i}" for i in range(5000, 5025)}
    p = Pseudonymiser(KEY_A, [], ["ignored"], bot_ids=bot_ids)
    ids = [str(i) for i in range(4000, 6000)]
    batch = p.pseudonymise(ids, [f"login{i}" for i in ids])
    flagged = {ids[i] for i in np.flatnonzero(batch.is_bot).tolist()}
    assert flagged == set(bot_ids)
    names = batch.bot_name.to_pylist()
    assert {names[ids.index(i)] for i in bot_ids} == set(bot_ids.values())
    assert batch.viewer.tolist() == [reference(KEY_A.secret, i) for i in ids]
    # a list with only the bots' smallest and largest pseudonyms, and one without bots
    ranked = sorted(bot_ids, key=lambda i: reference(KEY_A.secret, i))
    ends = p.pseudonymise([ranked[0], ranked[-1]], ["a", "b"])
    assert ends.is_bot.tolist() == [True, True]
    assert not p.pseudonymise(["1", "2"], ["a", "b"]).is_bot.any()


def test_optout_wins_over_bot() -> None:
    batch = Pseudonymiser(KEY_A, ["nightbot"], ["nightbot"]).pseudonymise(["1"], ["nightbot"])
    assert (len(batch), batch.optout_dropped) == (0, 1)


def test_optout_channel_by_login_or_id() -> None:
    optout = normalise_optout(["SomeStreamer", " 12345 ", ""])
    assert optout == frozenset({"somestreamer", "12345"})
    assert is_optout_channel("somestreamer", "1", optout)
    assert is_optout_channel("SOMESTREAMER", "1", optout)
    assert is_optout_channel("other", "12345", optout)
    assert not is_optout_channel("other", "1", optout)


def test_chatters_table_rows() -> None:
    p = Pseudonymiser(KEY_A, [], ["nightbot"])
    batch = p.pseudonymise(["1", "2"], ["nightbot", "x"])
    ts = dt.datetime(2026, 11, 27, 20, 5, tzinfo=UTC)
    rows = batch.chatters_table("20261127T2005Z", ts, "99").to_pylist()
    assert rows == [
        {
            "snapshot_id": "20261127T2005Z",
            "snapshot_ts": ts,
            "channel_id": "99",
            "viewer": reference(KEY_A.secret, "1"),
            "key_id": "ka",
            "is_bot": True,
            "bot_name": "nightbot",
        },
        {
            "snapshot_id": "20261127T2005Z",
            "snapshot_ts": ts,
            "channel_id": "99",
            "viewer": reference(KEY_A.secret, "2"),
            "key_id": "ka",
            "is_bot": False,
            "bot_name": None,
        },
    ]
    assert isinstance(batch.bot_name, pa.StringArray)


# ---------------------------------------------------------------- key store


def test_key_file_is_private_and_reused(tmp_path: Path) -> None:
    clock = SimClock(T0, speed=0)
    store = KeyStore(tmp_path / "state", 30, clock)
    key = store.current()
    path = tmp_path / "state" / KEYS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key.secret) == 32
    assert key.created_at == T0
    assert store.current(T0 + dt.timedelta(days=29, hours=23)) == key
    # another store on the same directory (another process) sees the same key
    assert KeyStore(tmp_path / "state", 30, clock).current() == key
    assert key.secret.hex() not in repr(key)


def test_key_rotates_after_rotation_days(tmp_path: Path) -> None:
    clock = SimClock(T0, speed=0)
    store = KeyStore(tmp_path, 7, clock)
    first = store.current()
    clock.advance(7 * 86400 - 1)
    assert store.current() == first
    clock.advance(1)
    second = store.current()
    assert second.key_id != first.key_id and second.secret != first.secret
    assert second.created_at == T0 + dt.timedelta(days=7)
    assert [k.key_id for k in store.list_keys()] == [first.key_id, second.key_id]


def test_clock_going_back_keeps_the_current_key(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, 7, SimClock(T0, speed=0))
    key = store.current(T0)
    assert store.current(T0 - dt.timedelta(days=3)) == key
    assert len(store.list_keys()) == 1


def test_purge_deletes_keys_past_rotation_plus_retention(tmp_path: Path) -> None:
    clock = SimClock(T0, speed=0)
    store = KeyStore(tmp_path, 10, clock)
    made = []
    for _ in range(5):  # keys made at day 0, 10, 20, 30, 40
        made.append(store.current())
        clock.advance(10 * 86400)
    now = T0 + dt.timedelta(days=45)
    # horizon = 45 - 10 - 15 = day 20: keys of day 0, 10 and 20 go
    purged = store.purge_expired(now, keep_days=15)
    assert purged == [k.key_id for k in made[:3]]
    assert [k.key_id for k in store.list_keys()] == [k.key_id for k in made[3:]]
    secrets_on_disk = (tmp_path / KEYS_FILE).read_text()
    for key in made[:3]:
        assert key.secret.hex() not in secrets_on_disk
    assert store.purge_expired(now, keep_days=15) == []
    assert store.current(now) == made[4]


def test_a_readable_key_file_is_refused(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, 30, SimClock(T0, speed=0))
    store.current()
    os.chmod(tmp_path / KEYS_FILE, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        store.current()


def test_a_corrupt_key_file_error_shows_no_secret(tmp_path: Path) -> None:
    path = tmp_path / KEYS_FILE
    path.write_text(json.dumps({"keys": [{"id": "k", "secret": "abcdef"}]}))
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError) as err:
        KeyStore(tmp_path, 30, SimClock(T0, speed=0)).current()
    assert "abcdef" not in str(err.value)


def test_key_material_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clock = SimClock(T0, speed=0)
    store = KeyStore(tmp_path, 1, clock)
    keys = [store.current()]
    clock.advance(86400)
    keys.append(store.current())
    store.purge_expired(keep_days=0)
    for key in keys:
        assert key.secret.hex() not in caplog.text
