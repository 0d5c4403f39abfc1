"""The crawler hands pages over in batches: one Ingestor per run, so one dead-letter file per run."""

from __future__ import annotations

import json

import pytest

from pipeline.context import RunContext
from pipeline.crawl.crawler import run_crawl
from pipeline.context import get_profile
from tests.replica.plugin import replica_overrides

pytestmark = pytest.mark.integration


def test_failures_of_every_batch_go_to_the_one_dead_letter_file_the_report_names(es, settings, replica):
    from mfa_replica.content import CURRENT_EN, CURRENT_RU

    crawl_settings = settings.model_copy(update={**replica_overrides(replica), "crawl_batch_size": 1,
                                                 "crawl_max_retries": 0})
    # Two articles that always fail, fetched in different batches of one page each.
    replica.add_fault("status", CURRENT_EN + "1785002/", count=50, arg=500)
    replica.add_fault("status", CURRENT_RU + "1785002/", count=50, arg=500)
    report = run_crawl(RunContext.build(crawl_settings, get_profile()))

    assert report.failed == 2 and report.new == 15
    files = sorted(crawl_settings.deadletter_dir.glob("*.jsonl"))
    assert len(files) == 1, files  # before: one file per batch, the report naming only the last one
    assert report.extra["deadletter_file"] == str(files[0])
    urls = {json.loads(line)["url"] for line in files[0].read_text(encoding="utf-8").splitlines()}
    assert any(u.endswith("1785002/") for u in urls) and any(u.endswith("/ru/press_service/minister_speeches/1785002/") for u in urls)
