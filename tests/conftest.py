"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.s3_server import S3Server, WeedMissing, missing_weed

# A server .ci/run started is up already: a short wait, then a clear error if it is not.
ENV_SERVER_LIMIT_S = 15.0


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-compatible server (SeaweedFS) with one bucket, shared by the session's tests
    (one per pytest-xdist worker): the one the ``CODEANATOMY_TEST_S3_*`` variables name (.ci/run
    starts one for the whole run), else one started here on free loopback ports and stopped at
    the end. Each test writes under its own ``s3_server.new_prefix(tag)``."""
    running = S3Server.from_env()
    if running is not None:
        running.wait_until_serving(ENV_SERVER_LIMIT_S)
        yield running
        return
    try:
        server = S3Server.start(tmp_path_factory.mktemp("s3"))
    except WeedMissing as error:
        missing_weed(error)
    try:
        yield server
    finally:
        server.stop()
