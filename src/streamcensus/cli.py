"""The `streamcensus` command line. Each stage's package contributes its own commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from streamcensus import __version__, config
from streamcensus.bench.cli import bench_command
from streamcensus.collect.cli import collect_command
from streamcensus.context import AppContext, pass_app
from streamcensus.cost.cli import cost_command
from streamcensus.demo import demo_command
from streamcensus.errors import StreamcensusError, UserError
from streamcensus.load.cli import load_command
from streamcensus.run import run_command
from streamcensus.serve.cli import export_command, serve_command
from streamcensus.simulator.calibrate import calibrate_command
from streamcensus.simulator.cli import simulator_command
from streamcensus.status import status_command
from streamcensus.tokens.cli import auth_group


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="streamcensus")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML settings file (default: $STREAMCENSUS_CONFIG or ./streamcensus.toml).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Lake, warehouse, state and logs (default: $STREAMCENSUS_DATA_DIR or ./data).",
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, data_dir: Path | None) -> None:
    """streamcensus: a census of a Twitch language community every five minutes."""
    ctx.obj = AppContext(config_file, data_dir)


@cli.command("config")
@click.option(
    "--env-example",
    is_flag=True,
    help="Print every setting's variable with its default (the text of .env.example).",
)
@pass_app
def config_command(app: AppContext, env_example: bool) -> None:
    """Show the effective settings as JSON (secrets and URL credentials masked)."""
    if env_example:
        click.echo(config.env_example(), nl=False)
        return
    click.echo(json.dumps(app.settings().public_dict(), indent=2, default=str))


for _command in (
    demo_command,
    simulator_command,
    collect_command,
    load_command,
    status_command,
    serve_command,
    export_command,
    run_command,
    calibrate_command,
    bench_command,
    auth_group,
    cost_command,
):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors and a non-zero exit, never a traceback."""
    try:
        code = cli.main(args=argv, prog_name="streamcensus", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        click.echo("streamcensus: interrupted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"streamcensus: error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"streamcensus: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code or 1)
    except UserError as exc:
        click.echo(f"streamcensus: error: {exc}", err=True)
        sys.exit(2)
    except StreamcensusError as exc:
        click.echo(f"streamcensus: error: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        click.echo(f"streamcensus: error: {exc.strerror or exc}{where}", err=True)
        sys.exit(1)
    except Exception as exc:
        if not type(exc).__module__.startswith(("duckdb", "_duckdb")):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        click.echo(f"streamcensus: error: the warehouse failed: {first}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("streamcensus: interrupted", err=True)
        sys.exit(130)
