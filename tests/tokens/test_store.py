"""The token store: 0600 files, atomic replacement, one-line refusals of bad files."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from streamcensus.timeutil import UTC
from streamcensus.tokens.store import TokenFileError, TokenRecord, TokenStore

NOW = dt.datetime(2026, 11, 27, 20, 0, tzinfo=UTC)


def record(**changes: object) -> TokenRecord:
    values: dict[str, object] = {
        "user_id": "500",
        "login": "streamcensus_operator",
        "role": "operator",
        "client_id": "cid",
        "auth_url": "https://id.twitch.tv/oauth2",
        "scopes": ("moderator:read:chatters",),
        "access_token": SecretStr("access-secret-1"),
        "refresh_token": SecretStr("refresh-secret-1"),
        "expires_at": NOW + dt.timedelta(hours=4),
        "obtained_at": NOW,
    }
    values.update(changes)
    return TokenRecord.model_validate(values)


def test_put_get_private_and_atomic(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "state")
    path = store.put(record())
    assert path == tmp_path / "state" / "tokens" / "500.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.get("500") == record()
    rotated = record(refresh_token=SecretStr("refresh-secret-2"))
    store.put(rotated)
    assert store.get("500") == rotated
    assert sorted(p.name for p in path.parent.iterdir()) == ["500.json"]  # no temp file left
    assert json.loads(path.read_text())["refresh_token"] == "refresh-secret-2"
    assert store.records() == [rotated]
    assert store.delete("500") and not store.delete("500")
    assert store.records() == []


def test_secrets_never_shown(tmp_path: Path) -> None:
    shown = record()
    assert "access-secret-1" not in repr(shown) and "refresh-secret" not in repr(shown)
    public = json.dumps(shown.public())
    assert "secret" not in public
    assert shown.public()["expires_at"] == "2026-11-28T00:00:00Z"
    assert shown.expires_in(NOW) == 4 * 3600 and shown.refreshable
    assert not record(refresh_token=None).refreshable


def test_a_file_readable_by_others_is_refused_in_one_line(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    path = store.put(record())
    os.chmod(path, 0o644)
    with pytest.raises(TokenFileError) as caught:
        store.records()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"token file {path} is readable by others (mode 644)")
    assert f"chmod 600 {path}" in message


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"user_id": "500"}', "login: Field required"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_a_corrupt_file_is_refused_in_one_line(tmp_path: Path, content: bytes, why: str) -> None:
    store = TokenStore(tmp_path)
    store.dir.mkdir(parents=True)
    path = store.dir / "500.json"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(TokenFileError) as caught:
        store.get("500")
    assert str(caught.value) == (
        f"token file {path} is not a token record ({why}): "
        "delete it and run `streamcensus auth login` again"
    )


def test_names_and_times_are_checked(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    store.dir.mkdir(parents=True)
    misplaced = store.dir / "501.json"
    misplaced.write_bytes(record().to_bytes())
    os.chmod(misplaced, 0o600)
    with pytest.raises(TokenFileError, match="holds the token of user 500"):
        store.records()
    with pytest.raises(ValueError, match="not a Twitch user id"):
        store.path("../escape")
    with pytest.raises(ValueError, match="time zone"):
        record(obtained_at=dt.datetime(2026, 11, 27, 20, 0))
