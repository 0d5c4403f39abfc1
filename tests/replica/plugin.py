"""pytest fixtures for the site replica (registered in tests/conftest.py).

``replica``: a fresh replica (both sites) per test, stopped afterwards.
``replica_settings``: Settings pointing the crawler at it with fast politeness
numbers (20 req/s, short backoff) and a temporary state folder; no Elasticsearch.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

import pytest

from mfa_replica.server import Replica


@pytest.fixture
def replica():
    server = Replica().start()
    yield server
    server.stop()


def replica_overrides(replica: Replica) -> dict:
    """Settings fields that point a crawl at the replica, tuned for fast tests."""
    return dict(
        crawl_base_url=replica.base_url,
        crawl_archive_url=replica.archive_url,
        # host:port of each of the replica's two servers; nothing else on this machine
        crawl_allowed_private_hosts=[urlsplit(u).netloc for u in (replica.base_url, replica.archive_url)],
        # The replica is the test's own: 100 requests a second (20 made the crawl tests wait on politeness,
        # the machine's CPU idle). The limiter is tested at its own rates (test_crawl.py's rate test at 20,
        # test_fetch.py at 4); the Celery tier keeps 20 (its conftest).
        crawl_rate_per_host=100.0,
        crawl_backoff_factor=0.05,
        crawl_backoff_jitter=0.05,
        crawl_backoff_max=0.5,
        crawl_retry_after_max=2.0,
        crawl_connect_timeout=2.0,
        crawl_read_timeout=1.0,
        crawl_max_retries=4,
        crawl_progress=False,
    )


def crawl_env(settings, replica: Replica) -> dict[str, str]:
    """The environment of an `mfa-ingest crawl` process pointed at the replica (one page at a
    time, a few per second: slow enough to be killed half-way)."""
    env = dict(os.environ)
    env.update({
        "MFA_INDEX_ALIAS": settings.index_alias,
        "MFA_STATE_INDEX": settings.state_index,
        "MFA_DEADLETTER_INDEX": settings.deadletter_index,
        "MFA_STATE_DIR": str(settings.state_dir),
        "MFA_CRAWL_BASE_URL": replica.base_url,
        "MFA_CRAWL_ARCHIVE_URL": replica.archive_url,
        "MFA_CRAWL_ALLOWED_PRIVATE_HOSTS": json.dumps(replica_overrides(replica)["crawl_allowed_private_hosts"]),
        "MFA_CRAWL_RATE_PER_HOST": "4",
        "MFA_CRAWL_BATCH_SIZE": "2",
        "MFA_CRAWL_CONCURRENCY": "1",
    })
    return env


@pytest.fixture
def replica_settings(replica, tmp_path):
    from pipeline.settings import Settings

    return Settings(state_dir=tmp_path / "state", **replica_overrides(replica))


# The crawl bench's scenario (issue 25): three busy days of 45 extra items each in one listing
# (more than two listing pages a day), inside a backfill of the last 10 days.
BUSY_DAYS = (1, 3, 5)  # days ago
BUSY_ITEMS = 45
BACKFILL_DAYS = 10


def fill_busy_days(replica: Replica) -> tuple:
    """Add the bench's busy days to ``replica``; return the backfill's (since, until)."""
    from datetime import timedelta

    from mfa_replica.content import today_msk

    today = today_msk()
    for n, ago in enumerate(BUSY_DAYS):
        replica.fill_day(today - timedelta(days=ago), BUSY_ITEMS, first_id=1800000 + 100 * n)
    return today - timedelta(days=BACKFILL_DAYS - 1), today
