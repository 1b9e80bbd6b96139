"""What every command receives: the global options, and how to build settings from them.

It sits below `cli.py` and the command modules, so a command module imports it and
`cli.py` imports the command modules at the top, with no cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from streamcensus.config import Settings, load_settings


class AppContext:
    """The global options (`--config`, `--data-dir`) and the settings they give."""

    def __init__(self, config_file: Path | None, data_dir: Path | None) -> None:
        self.config_file = config_file
        self.data_dir = data_dir

    def settings(self, **overrides: Any) -> Settings:
        """Settings from defaults < TOML < secrets file < environment < options."""
        return load_settings(self.config_file, {"data_dir": self.data_dir, **overrides})


pass_app = click.make_pass_decorator(AppContext)


F = TypeVar("F", bound=Callable[..., Any])


def lake_url_option(command: F) -> F:
    """The `--lake-url URL` option of the commands that read or write the raw lake."""
    option = click.option(
        "--lake-url",
        metavar="URL",
        help="Where the raw lake lives: a local path, s3://bucket/prefix or gs://bucket/prefix "
        "(default: $STREAMCENSUS_LAKE_URL, or <data-dir>/lake).",
    )
    return option(command)
