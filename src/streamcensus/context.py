"""What every command receives: the global options, and how to build settings from them.

It sits below `cli.py` and the command modules, so a command module imports it and
`cli.py` imports the command modules at the top, with no cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
