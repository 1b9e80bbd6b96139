"""Logging set-up: one line per event to stderr and to `<data_dir>/logs/streamcensus.log`.

No viewer data is ever passed to a logger (P1); HTTP client loggers are kept at WARNING
so request URLs (which name channels, never viewers) do not flood the log. The log file
is private (0600 in a 0700 directory, `fsutil`): it names channels and the pipeline's
doings, which are nobody else's business on a shared machine.
"""

from __future__ import annotations

import logging
from pathlib import Path

from streamcensus.fsutil import private_file

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE = "streamcensus.log"


def setup_logging(log_dir: Path | None, *, verbose: bool = False, to_stderr: bool = True) -> None:
    """Configure the root logger once per process (safe to call again)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_streamcensus", False):
            root.removeHandler(handler)
            handler.close()
    level = logging.DEBUG if verbose else logging.INFO
    root.setLevel(level)
    handlers: list[logging.Handler] = []
    if to_stderr:
        handlers.append(logging.StreamHandler())
    if log_dir is not None:
        path = private_file(log_dir / LOG_FILE)
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._streamcensus = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for noisy in ("httpx", "httpcore", "uvicorn.access", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
