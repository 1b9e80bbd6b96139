"""Spark local for the engine tests: one application (one JVM) for the whole test session.

Java comes from the machine (`make test` installs Debian's openjdk-17 when it is missing);
without it the tests skip on a developer's machine and fail in CI (`CI=true`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from streamcensus.transform.engines.spark import LOCAL_MASTER, spark_session, stop_spark


def java_available() -> bool:
    """True when a Java runtime is on PATH or JAVA_HOME names one."""
    home = os.environ.get("JAVA_HOME")
    return shutil.which("java") is not None or bool(home and os.path.exists(home))


@pytest.fixture(scope="session")
def spark_master() -> Iterator[str]:
    """The local Spark master, started once (the first run starts the JVM)."""
    if not java_available():
        message = "the Spark tests need Java 17+ (make test installs openjdk-17-jre-headless)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark_session(LOCAL_MASTER)
    yield LOCAL_MASTER
    stop_spark()
