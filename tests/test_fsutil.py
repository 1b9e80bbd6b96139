"""File modes: everything under the data directory is 0700 / 0600 whatever the umask;
the static export is published (0755 / 0644)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from streamcensus.config import load_settings
from streamcensus.demo import run_demo_collection, run_demo_load
from streamcensus.fsutil import (
    atomic_write_bytes,
    ensure_dir,
    make_private,
    private_dir,
    private_file,
    private_umask,
    write_private,
    write_public,
)
from streamcensus.load.rawfiles import day_files
from streamcensus.logs import LOG_FILE, setup_logging
from streamcensus.warehouse.connection import open_warehouse


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022, 0o277], ids=["umask000", "umask022", "umask277"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under a permissive, the usual and a hostile umask."""
    value: int = request.param
    saved = os.umask(value)
    try:
        yield value
    finally:
        os.umask(saved)


@pytest.fixture
def open_umask() -> Iterator[None]:
    saved = os.umask(0)
    try:
        yield
    finally:
        os.umask(saved)


def test_private_dir_makes_every_missing_directory_0700(umask: int, tmp_path: Path) -> None:
    existing = tmp_path / "mine"
    existing.mkdir(mode=0o755)
    os.chmod(existing, 0o755)
    leaf = private_dir(existing / "a" / "b" / "c")
    assert leaf.is_dir()
    assert [mode(existing / p) for p in ("a", "a/b", "a/b/c")] == [0o700] * 3
    assert mode(existing) == 0o755  # a directory the user made is left alone
    assert private_dir(leaf) == leaf  # again: nothing to do


def test_ensure_dir_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(FileExistsError):
        ensure_dir(tmp_path / "f" / "sub")


def test_atomic_writes_are_private_unless_published(umask: int, tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "d" / "a.bin", b"a")
    write_private(tmp_path / "s" / "key.json", b"k")
    write_public(tmp_path / "site" / "assets" / "x.js", b"x")
    assert (mode(tmp_path / "d"), mode(tmp_path / "d" / "a.bin")) == (0o700, 0o600)
    assert (mode(tmp_path / "s"), mode(tmp_path / "s" / "key.json")) == (0o700, 0o600)
    assert [mode(tmp_path / p) for p in ("site", "site/assets", "site/assets/x.js")] == [
        0o755,
        0o755,
        0o644,
    ]
    write_private(tmp_path / "s" / "key.json", b"again")  # replacing keeps it private
    assert mode(tmp_path / "s" / "key.json") == 0o600
    assert (tmp_path / "s" / "key.json").read_bytes() == b"again"
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["key.json"]


def test_private_file_creates_or_tightens(umask: int, tmp_path: Path) -> None:
    fresh = private_file(tmp_path / "logs" / "x.log")
    assert (mode(fresh.parent), mode(fresh), fresh.read_bytes()) == (0o700, 0o600, b"")
    old = tmp_path / "old.log"
    old.write_bytes(b"kept")
    os.chmod(old, 0o644)
    private_file(old)
    assert (mode(old), old.read_bytes()) == (0o600, b"kept")
    os.chmod(old, 0o666)
    make_private(old)
    assert mode(old) == 0o600
    make_private(tmp_path / "missing")  # nothing to tighten: no error


def test_private_umask_is_held_while_any_holder_is_inside_then_restored(open_umask: None) -> None:
    inside = threading.Event()
    release = threading.Event()

    def other() -> None:
        with private_umask():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    with private_umask():
        thread.start()
        assert inside.wait(10)
        assert os.umask(0o077) == 0o077
    # this holder left, the other is still inside: still private
    assert os.umask(0o077) == 0o077
    release.set()
    thread.join(10)
    assert os.umask(0) == 0  # everyone left: the caller's umask is back


def test_log_file_is_private(umask: int, tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    try:
        setup_logging(log_dir, to_stderr=False)
        logging.getLogger("streamcensus.test").info("a line")
    finally:
        setup_logging(None, to_stderr=False)
    assert (mode(log_dir), mode(log_dir / LOG_FILE)) == (0o700, 0o600)
    assert "a line" in (log_dir / LOG_FILE).read_text()


def test_the_warehouse_and_its_wal_are_private(open_umask: None, tmp_path: Path) -> None:
    path = tmp_path / "data" / "warehouse.duckdb"
    with open_warehouse(path) as con:
        con.execute("create table t as select range as i from range(1000)")
        con.execute("checkpoint")
        con.execute("insert into t select range from range(10)")  # a new WAL after a checkpoint
        wal = path.with_name(path.name + ".wal")
        assert wal.exists()
        assert (mode(path.parent), mode(path), mode(wal)) == (0o700, 0o600, 0o600)
    assert os.umask(0) == 0  # restored after the warehouse is closed


def test_a_warehouse_made_world_readable_before_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with open_warehouse(path) as con:
        con.execute("create table t (i int)")
    os.chmod(path, 0o644)
    with open_warehouse(path, read_only=True):
        assert mode(path) == 0o644  # a reader changes nothing
    with open_warehouse(path):
        pass
    assert mode(path) == 0o600


@pytest.mark.slow
def test_a_demo_leaves_nothing_readable_by_others(open_umask: None, tmp_path: Path) -> None:
    """Collect (lake writer, keys), quarantine a broken file, load (warehouse, curated
    zone) and log, under umask 000: every directory is 0700 and every file 0600."""
    data = tmp_path / "data"
    settings = load_settings(overrides={"data_dir": data}, environ={})
    day = dt.date(2026, 11, 27)
    try:
        setup_logging(settings.log_dir, to_stderr=False)
        run_demo_collection(settings, first_day=day, hours=1, scale="small", seed=42)
        broken = next(f.path for f in day_files(settings.lake_dir, day) if f.kind == "chatters")
        broken.write_bytes(b"not parquet")
        run_demo_load(settings, day, Console(file=open(os.devnull, "w")))  # noqa: SIM115
    finally:
        setup_logging(None, to_stderr=False)
    everything = [data, *data.rglob("*")]
    names = {p.relative_to(data).parts[0] for p in everything if p != data}
    assert {"lake", "state", "logs", "warehouse.duckdb"} <= names
    assert any("quarantine" in p.parts for p in everything)
    assert any("curated" in p.parts and p.suffix == ".parquet" for p in everything)
    loose = [
        (str(p.relative_to(tmp_path)), oct(mode(p)))
        for p in everything
        if mode(p) != (0o700 if p.is_dir() else 0o600)
    ]
    assert loose == []
