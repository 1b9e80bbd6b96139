"""The known-bot list: public bots flagged as bots and kept by name (P6).

A default list ships with the package (`known_bots.txt`, maintained with the code); the
operator adds logins with a file of the same format (`known_bots_file`) or replaces the
list (`known_bots`). The collector resolves the logins to user ids at start and matches
chatters by pseudonym after hashing (`collect/privacy.py`), so a login that changes hands
is never stored for the person who takes it.
"""

from __future__ import annotations

import re
from pathlib import Path

from streamcensus.errors import ConfigError

DEFAULT_FILE = Path(__file__).with_name("known_bots.txt")
_LOGIN = re.compile(r"^[a-z0-9_]{2,25}$")


def parse_bot_list(text: str, where: str = "known-bot list") -> list[str]:
    """Logins of a known-bot list: one a line, lower-cased; `#` comments and blanks skipped."""
    logins: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        login = raw.split("#", 1)[0].strip().lower()
        if not login:
            continue
        if not _LOGIN.match(login):
            raise ConfigError(
                f"{where}, line {number}: {login[:40]!r} is not a Twitch login "
                "(2-25 of a-z, 0-9, _): fix or remove that line"
            )
        if login not in logins:
            logins.append(login)
    return logins


def read_bot_list(path: Path) -> list[str]:
    """The logins of a known-bot list file (a one-line error naming the file if unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"known_bots_file {path}: cannot be read ({exc.__class__.__name__}): "
            "give a readable UTF-8 file, one login a line"
        ) from None
    return parse_bot_list(text, str(path))


def default_known_bots() -> list[str]:
    """The maintained default list shipped with the package."""
    return read_bot_list(DEFAULT_FILE)
