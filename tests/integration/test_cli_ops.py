"""The commands as an operator and an analyst use them (subprocesses of the installed CLI):
messages instead of tracebacks, exit codes, Moscow days, speakers in any form, counts under a query,
index versions; the real node, the sample dumps and the site replica."""

from __future__ import annotations

import csv
from datetime import date, timedelta
import io
import json
import os
import re
import socket
import subprocess
from collections import Counter

import pytest

from pipeline.context import RunContext, get_profile
from tests.conftest import REPO, SAMPLE_DUMPS
from tests.replica.plugin import replica_overrides

CLI = str(REPO / ".venv" / "bin" / "mfa-ingest")


# A look-back of a month: the replica dates its items relative to today, and a --since walks
# the date-filtered listing by date windows.
SINCE = (date.today() - timedelta(days=30)).isoformat()

def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(*args: str, settings, **env) -> subprocess.CompletedProcess:
    """The command's result; stderr with Typer's error box and its line wrapping taken out."""
    full = {**os.environ, "MFA_INDEX_ALIAS": settings.index_alias, "MFA_DEADLETTER_INDEX": settings.deadletter_index,
            "MFA_STATE_INDEX": settings.state_index, "MFA_STATE_DIR": str(settings.state_dir),
            **{k: str(v) for k, v in env.items()}}
    done = subprocess.run([CLI, *args], env=full, capture_output=True, text=True, timeout=300)
    if "─ Error ─" in done.stderr:
        done.stderr = " ".join(re.sub("[│╭╮╰╯─]", " ", done.stderr).split())
    return done


# ---- messages, not tracebacks ------------------------------------------------

@pytest.mark.parametrize("command", [["stats"], ["search", "NATO"], ["versions"], ["ingest", str(SAMPLE_DUMPS)]])
def test_elasticsearch_down_gives_a_short_message_and_a_non_zero_exit(settings, command):
    done = run_cli(*command, settings=settings, MFA_ES_URL=f"http://127.0.0.1:{closed_port()}")
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) <= 3 and "Elasticsearch unreachable" in lines[0]
    assert "hint:" in done.stderr


def test_debug_shows_the_traceback_and_json_still_prints_a_report(settings):
    port = closed_port()
    done = run_cli("--debug", "stats", settings=settings, MFA_ES_URL=f"http://127.0.0.1:{port}")
    assert done.returncode == 3 and "Traceback" in done.stderr
    done = run_cli("stats", "--json", settings=settings, MFA_ES_URL=f"http://127.0.0.1:{port}")
    out = json.loads(done.stdout)
    assert out["ok"] is False and "unreachable" in out["error"]
    done = run_cli("ingest", str(SAMPLE_DUMPS), "--json", settings=settings, MFA_ES_URL=f"http://127.0.0.1:{port}")
    assert done.returncode == 3
    out = json.loads(done.stdout)  # the run's report so far, with the error
    assert out["ok"] is False and out["name"] == "archive-ingest" and out["new"] == 0


def test_bad_arguments_name_the_choices(settings, indexed_sample):
    done = run_cli("search", "NATO", "--role", "answers", settings=settings)
    assert done.returncode == 2 and "statement, question, answer" in done.stderr
    done = run_cli("search", "--section", "nonexistent", settings=settings)
    assert done.returncode == 2 and "minister_speeches" in done.stderr
    done = run_cli("crawl", "--section", "nonexistent", settings=settings)
    assert done.returncode == 2 and "minister_speeches" in done.stderr and "Traceback" not in done.stderr
    done = run_cli("stats", "--by", "weekday", settings=settings)
    assert done.returncode == 2 and "month" in done.stderr


def test_a_missing_index_is_a_message(settings, es, index_alias):
    done = run_cli("search", "NATO", "--index", f"{index_alias}-nothing", settings=settings)
    assert done.returncode == 3 and "does not exist" in done.stderr and "Traceback" not in done.stderr
    done = run_cli("stats", "--index", f"{index_alias}-nothing", settings=settings)
    assert done.returncode == 3 and "(missing): 0 documents" in done.stdout and "hint:" in done.stderr


# ---- exit codes of runs --------------------------------------------------------

def test_ingest_exits_non_zero_on_a_failed_input_unless_allowed(settings, es, index_alias, tmp_path):
    folder = tmp_path / "dumps"
    folder.mkdir()
    for page in list(SAMPLE_DUMPS.iterdir())[:2]:
        (folder / page.name).write_bytes(page.read_bytes())
    (folder / "zz_empty.txt").write_text("Advanced settings\n")
    done = run_cli("ingest", str(folder), settings=settings)
    assert done.returncode == 1
    assert "failed: " in done.stderr and "zz_empty.txt" in done.stderr
    done = run_cli("ingest", str(folder), "--allow-failures", "1", "--json", settings=settings)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["failed"] == 1 and report["attempted"] == 3
    assert run_cli("ingest", str(folder), "--allow-failures", "34%", settings=settings).returncode == 0
    assert run_cli("ingest", str(folder), "--allow-failures", "30%", settings=settings).returncode == 1
    assert run_cli("ingest", str(folder), "--allow-failures", "x", settings=settings).returncode == 2


def _replica_env(replica) -> dict:
    return {f"MFA_{k.upper()}": json.dumps(v) if isinstance(v, list) else v for k, v in replica_overrides(replica).items()}


def retry_window(overrides: dict) -> float:
    """The longest one host's retries can take (docs/crawling.md): every attempt waiting out its connect
    timeout, and the backoff after each failed one (capped, plus the jitter)."""
    tries = overrides["crawl_max_retries"]
    backoff = sum(min(overrides["crawl_backoff_factor"] * 2 ** n, overrides["crawl_backoff_max"])
                  + overrides["crawl_backoff_jitter"] for n in range(tries))
    return (tries + 1) * overrides["crawl_connect_timeout"] + backoff


def test_crawl_of_a_down_site_exits_non_zero_naming_site_unreachable(settings, es, index_alias, replica):
    """One retry window per host (both sites down), not one per listing and day of the month's look-back;
    then one stderr line per failure class with its count, and the run-level error."""
    import time

    env = _replica_env(replica)
    down = [f"127.0.0.1:{closed_port()}", f"127.0.0.1:{closed_port()}"]
    env["MFA_CRAWL_BASE_URL"], env["MFA_CRAWL_ARCHIVE_URL"] = (f"http://{host}" for host in down)
    env["MFA_CRAWL_ALLOWED_PRIVATE_HOSTS"] = json.dumps(down)  # down, not refused by the private-host guard
    started = time.monotonic()
    done = run_cli("crawl", "--since", SINCE, "--json", settings=settings, **env)
    took = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    assert "error: site unreachable" in done.stderr
    report = json.loads(done.stdout)
    assert report["fetched"] == 0 and report["failed"] >= 1 and report["failure_share"] == 1.0
    classes = [line for line in done.stderr.splitlines() if line.startswith("failed: ")]
    assert sorted(line.split()[1:3] for line in classes) == sorted([k, str(n)]
                                                                   for k, n in report["failures_by_kind"].items())
    assert set(report["failures_by_kind"]) <= {"site_unreachable", "robots_unreachable"}
    crawl = get_profile(settings.site_profile_path).crawl
    listings = sum(len(s.listings) for s in crawl.sections) + len(crawl.feeds)
    assert report["failed"] <= listings  # one failure per listing, not one per day of the look-back
    startup = 30  # the CLI's own start (imports, the node's index set-up) on a busy machine
    assert took < 2 * retry_window(replica_overrides(replica)) + startup, took


def test_crawl_estimate_prints_requests_and_time_and_fetches_no_article(settings, es, index_alias, replica):
    done = run_cli("crawl", "--since", SINCE, "--estimate", "--json", settings=settings, **_replica_env(replica))
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    # a look-back: the nightly sections of the current site (17 transcripts), none of them known yet
    assert found["articles"] == len([a for a in replica.live_articles() if a.site == "current"]) == 17
    assert found["requests"] == len(replica.hits()) + found["articles"]
    assert found["seconds"] > 0
    assert all("activeFrom" in h.path or h.path == "/robots.txt" or "rss.php" in h.path or "_cur" in h.path
               or h.site == "archive" for h in replica.hits())
    human = run_cli("crawl", "--since", SINCE, "--estimate", settings=settings, **_replica_env(replica))
    assert human.stdout.startswith("estimate: ") and " requests (" in human.stdout


def test_crawl_summary_says_what_the_revisit_policy_scheduled(settings, es, index_alias, replica):
    """The same night as the first crawl: every listed item is known and none is due yet; the
    summary's revisits line says so, and the estimate counts no revisit either."""
    from pipeline.crawl.crawler import run_crawl

    crawl_settings = settings.model_copy(update=replica_overrides(replica))
    assert run_crawl(RunContext.build(crawl_settings, get_profile())).new == 17
    estimate = run_cli("crawl", "--estimate", "--json", settings=settings, **_replica_env(replica))
    assert json.loads(estimate.stdout)["revalidations"] == 0, estimate.stderr
    done = run_cli("crawl", settings=settings, **_replica_env(replica))
    assert done.returncode == 0, done.stderr
    assert ("revisits: scheduled 0 (0 fresh, 0 at their interval), sent 0, edits caught 0; known and not due 17"
            in done.stdout)


def test_crawl_of_a_site_answering_503_everywhere_exits_non_zero(settings, es, index_alias, replica):
    replica.add_fault("status", match="/", count=100000, arg=503)
    done = run_cli("crawl", "--since", SINCE, settings=settings, **_replica_env(replica))
    assert done.returncode == 1
    assert "error: site unreachable" in done.stderr


def test_crawl_that_fails_one_page_exits_non_zero_and_names_the_class(settings, es, index_alias, replica):
    article = replica.live_articles()[0]
    path = replica.article_url(article).split("://", 1)[1].split("/", 1)[1]
    replica.add_fault("status", match="/" + path, count=100000, arg=500)
    done = run_cli("crawl", "--since", SINCE, settings=settings, **_replica_env(replica))
    assert done.returncode == 1
    assert "failed: http_error 1" in done.stderr and path in done.stderr
    assert "site unreachable" not in done.stderr
    done = run_cli("crawl", "--since", SINCE, "--allow-failures", "1", settings=settings,
                   **_replica_env(replica))
    assert done.returncode == 0, done.stderr


# ---- the analyst's questions -------------------------------------------------------

def test_from_to_are_moscow_calendar_days_inclusive(settings, indexed_sample, sample_records):
    late = [r for r in sample_records if r.published_at.strftime("%Y-%m-%d %H:%M") == "2021-12-02 23:28"]
    assert late, "the sample has a transcript of 23:28 Moscow time on 2 December 2021"
    done = run_cli("search", "--from", "2021-12-02", "--to", "2021-12-02", "--json", settings=settings)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {h["doc_id"] for h in out["hits"]} == {r.doc_id for r in late}
    done = run_cli("search", "--from", "2021-12-03", "--json", settings=settings)
    assert json.loads(done.stdout)["total"] == sum(r.published_at.date().isoformat() >= "2021-12-03"
                                                   for r in sample_records)


@pytest.mark.parametrize("speaker", ["Lavrov", "Лавров", "sergey lavrov", "С.В.Лавров", "lavrov"])
def test_nato_by_lavrov_in_any_printed_form_finds_his_answers(settings, indexed_sample, sample_records, speaker):
    expected = {r.doc_id: sum(1 for t in r.turns if t.speaker == "Sergey Lavrov" and t.role == "answer"
                              and "nato" in t.text.lower()) for r in sample_records}
    expected = {k: v for k, v in expected.items() if v}
    assert expected
    done = run_cli("search", "NATO", "--speaker", speaker, "--role", "answer", "--all", "--json", settings=settings)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {h["doc_id"]: h["turns_total"] for h in out["hits"]} == expected
    assert all(len(h["turns"]) == h["turns_total"] for h in out["hits"])
    assert all("<em>" in "".join(t["highlights"]) for h in out["hits"] for t in h["turns"])


def test_section_by_profile_name_or_printed_title(settings, indexed_sample, sample_records):
    speeches = sum(1 for r in sample_records if r.section == "Ministers’ speeches")
    assert speeches
    for asked in ("minister_speeches", "Ministers' speeches", "ministers’ speeches"):
        out = json.loads(run_cli("search", "--section", asked, "--json", settings=settings).stdout)
        assert out["total"] == speeches, asked


def test_questions_per_moscow_month_match_a_hand_count(settings, indexed_sample, sample_records):
    hand = Counter()
    for r in sample_records:
        hand[r.published_at.strftime("%Y-%m")] += sum(t.role == "question" for t in r.turns)
    done = run_cli("stats", "--count", "questions", "--by", "month", "--format", "csv", settings=settings)
    assert done.returncode == 0, done.stderr
    got = {row["month"]: int(row["questions"]) for row in csv.DictReader(io.StringIO(done.stdout))}
    assert {month: got.get(month) for month in hand} == dict(hand)
    # The months between with no document are rows of 0, so a chart shows the gap.
    assert all(n == 0 for month, n in got.items() if month not in hand)
    assert min(got) == min(hand) and max(got) == max(hand)


def test_stats_under_a_query_and_filters(settings, indexed_sample, sample_records):
    hand = Counter()
    for r in sample_records:
        for t in r.turns:
            if t.role == "answer" and "nato" in t.text.lower():
                hand[t.speaker] += 1
    done = run_cli("stats", "NATO", "--by", "speaker", "--count", "turns", "--role", "answer", "--json",
                   settings=settings)
    out = json.loads(done.stdout)
    assert out["buckets"] == dict(hand)
    done = run_cli("stats", "--by", "place", "--json", settings=settings)
    places = Counter(r.location or "(none)" for r in sample_records)
    assert json.loads(done.stdout)["buckets"] == dict(places)


def test_search_pages_through_all_documents(settings, indexed_sample, sample_records):
    seen = []
    for page in (1, 2, 3):
        out = json.loads(run_cli("search", "--size", "2", "--page", str(page), "--json", settings=settings).stdout)
        assert out["total"] == len(sample_records)
        seen += [h["doc_id"] for h in out["hits"]]
    assert sorted(seen) == sorted(r.doc_id for r in sample_records)


@pytest.fixture
def indexed_kinds(es, settings, index_alias, replica, indexed_sample, sample_records) -> tuple[Counter, list]:
    """The sample (four dumps name no section, so no kind; one names `Ministers’ speeches`: speech) and
    a nightly crawl of the replica, whose items carry the kind of their section; returns the documents
    per kind the inputs give (the replica's own section table)."""
    from pipeline.crawl.crawler import run_crawl

    report = run_crawl(RunContext.build(settings.model_copy(update=replica_overrides(replica)), get_profile(settings.site_profile_path)))
    assert report.failed == 0
    es.indices.refresh(index=index_alias)
    current = [a for a in replica.live_articles() if a.site == "current"]  # nightly: the current site
    assert report.new == len(current)
    expected = Counter(a.kind for a in current) + Counter(r.kind or "(none)" for r in sample_records)
    return expected, current


def test_kind_filters_and_groups_documents_as_their_sections_publish(settings, indexed_kinds, sample_records):
    expected, current = indexed_kinds
    assert len([k for k in expected if k != "(none)"]) >= 3 and expected["(none)"] >= 1
    done = run_cli("stats", "--by", "kind", "--json", settings=settings)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["buckets"] == dict(expected)
    overview = run_cli("stats", "--json", settings=settings)  # the plain overview counts kinds too
    assert json.loads(overview.stdout)["by_kind"] == dict(expected)
    for kind in (k for k in expected if k != "(none)"):
        done = run_cli("search", "--kind", kind, "--size", "100", "--json", settings=settings)
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert out["total"] == expected[kind] and {h["kind"] for h in out["hits"]} == {kind}, kind
        languages = Counter(a.language for a in current if a.kind == kind) + Counter(
            r.language for r in sample_records if r.kind == kind)
        done = run_cli("stats", "--kind", kind, "--by", "language", "--json", settings=settings)
        assert json.loads(done.stdout)["buckets"] == dict(languages), kind
    table = run_cli("stats", "--kind", "briefing", "--by", "kind", settings=settings).stdout
    assert re.search(rf"\bbriefing\b.*\b{expected['briefing']}\b", table), table


def test_kinds_print_one_label_per_language_from_the_profile(settings, indexed_kinds):
    """Issue 24 item 7: `stats --by kind` printed the raw kinds (`answer`) while `--by section`
    printed the profile's labels. The table prints the profile's `kind_labels` in the language
    asked; CSV and JSON keep the stored kind beside its label."""
    expected, _ = indexed_kinds
    labels = get_profile(settings.site_profile_path).crawl.kind_labels
    assert expected["answer"] and labels["answer"]["en"] != "answer"  # a label that is not the raw kind
    table = run_cli("stats", "--by", "kind", settings=settings).stdout
    assert re.search(rf"answer to a media question\s.*\b{expected['answer']}\b", table), table
    assert re.search(rf"\bspeech\b.*\b{expected['speech']}\b", table), table
    ru = run_cli("stats", "--by", "kind", "--language", "ru", settings=settings).stdout
    assert "брифинг" in ru and "ответ на вопрос СМИ" in ru, ru
    rows = list(csv.DictReader(io.StringIO(run_cli("stats", "--by", "kind", "--format", "csv", settings=settings).stdout)))
    assert {r["kind"]: (r["label"], int(r["documents"])) for r in rows if r["kind"] != "total"} == {
        k: (labels[k]["en"] if k in labels else _unknown_kind(settings), n) for k, n in expected.items()}
    out = json.loads(run_cli("stats", "--by", "kind", "--json", settings=settings).stdout)
    assert out["buckets"] == dict(expected)
    assert out["labels"] == {k: (labels[k]["en"] if k in labels else _unknown_kind(settings)) for k in expected}
    overview = run_cli("stats", settings=settings).stdout  # the plain overview's kind row too
    kind_line = next(line for line in overview.splitlines() if line.startswith("by kind:"))
    assert f"answer to a media question {expected['answer']}" in kind_line, kind_line
    assert "(none)" not in overview, overview
    found = run_cli("search", "--kind", "answer", "--language", "en", "--size", "1", settings=settings).stdout
    assert re.search(r" · answer to a media question\b", found), found


def _unknown_kind(settings) -> str:
    return get_profile(settings.site_profile_path).crawl.unknown_labels["kind"]["en"]


def test_the_samples_stats_say_in_words_what_the_sample_does_not_say(settings, indexed_sample, sample_records):
    """Issue 24 item 15: the demo's `stats` printed `(none) 4` for the sample's sections and
    `(none) 5` for its kinds. The one dump that names its section has its section's kind; the
    others name none, which the overview says in words (the profile's `unknown_labels`)."""
    overview = run_cli("stats", settings=settings).stdout
    assert "(none)" not in overview, overview
    unknown = get_profile(settings.site_profile_path).crawl.unknown_labels
    nameless = sum(1 for r in sample_records if r.section is None)
    assert 0 < nameless < len(sample_records)
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1] for line in overview.splitlines() if ":" in line}
    assert f"{unknown['section']['en']} {nameless}" in lines["by section"]
    assert f"Minister's speeches {len(sample_records) - nameless}" in lines["by section"]
    assert f"speech {len(sample_records) - nameless}" in lines["by kind"]
    assert f"{unknown['kind']['en']} {nameless}" in lines["by kind"]
    by_section = run_cli("stats", "--by", "section", settings=settings).stdout
    assert unknown["section"]["en"] in by_section and "(none)" not in by_section, by_section


def test_documents_without_a_place_are_counted_under_the_profiles_unknown_label(settings, es, index_alias,
                                                                               indexed_sample, sample_records,
                                                                               tmp_path):
    """`stats --by place` printed `(none)` where `--by section` and `--by kind` print the profile's
    `unknown_labels`: every `--by` names documents without the field in words."""
    from pipeline.ingest import ingest_archive

    (tmp_path / "placeless.txt").write_text(
        "1 December 2020 19:32\n\nForeign Minister Sergey Lavrov's remarks to the press\n\n"
        "Sergey Lavrov: We spoke at length today about the work ahead of us and agreed on the next steps.\n",
        encoding="utf-8")
    report = ingest_archive(RunContext.build(settings), tmp_path)
    assert report.new == 1 and report.failed == 0
    es.indices.refresh(index=index_alias)
    label = get_profile(settings.site_profile_path).crawl.unknown_labels.get("place", {}).get("en")
    assert label, "the profile names documents without a place"
    table = run_cli("stats", "--by", "place", settings=settings).stdout
    assert "(none)" not in table and re.search(rf"{re.escape(label)}\s.*\b1\b", table), table
    buckets = json.loads(run_cli("stats", "--by", "place", "--json", settings=settings).stdout)["buckets"]
    assert buckets == {**Counter(r.location for r in sample_records), label: 1}


def test_a_mistyped_kind_names_the_profiles_kinds(settings, es, index_alias):
    published = {s.kind for s in get_profile(settings.site_profile_path).crawl.sections}
    assert {"speech", "briefing"} <= published
    for command in (["search", "NATO"], ["stats"], ["stats", "--by", "month"]):
        done = run_cli(*command, "--kind", "briefings", settings=settings)
        assert done.returncode == 2, (command, done.stderr)
        assert "--kind" in done.stderr and "Traceback" not in done.stderr
        named = set(done.stderr.rsplit("one of:", 1)[-1].replace(",", " ").split())
        assert named == published, done.stderr  # the kinds the profile's sections publish, no more


# ---- index versions ------------------------------------------------------------------

def test_versions_lists_and_prunes(settings, es, index_alias, indexed_sample):
    for _ in range(3):
        assert run_cli("reindex", settings=settings).returncode == 0
    assert run_cli("reindex", "--no-swap", settings=settings).returncode == 0  # a build that never went live
    out = json.loads(run_cli("versions", "--format", "json", settings=settings).stdout)
    assert [v["name"] for v in out] == [f"{index_alias}-v{n}" for n in range(1, 6)]
    assert [v["live"] for v in out] == [False, False, False, True, False]
    assert all(v["documents"] == 5 for v in out)
    out = json.loads(run_cli("versions", "--keep", "1", "--dry-run", "--format", "json", settings=settings).stdout)
    assert [v["name"] for v in out if v["action"]] == [f"{index_alias}-v{n}" for n in (1, 2, 5)]
    assert len(es.indices.get(index=f"{index_alias}-v*")) == 5
    run_cli("versions", "--keep", "1", settings=settings)
    assert sorted(es.indices.get(index=f"{index_alias}-v*")) == [f"{index_alias}-v3", f"{index_alias}-v4"]
    assert run_cli("rollback", settings=settings).returncode == 0


def test_after_a_rollback_pruning_keeps_the_live_version_and_the_newest_others(settings, es, index_alias,
                                                                              indexed_sample):
    """v1, v2, v3 live; rollback: v2 live. v3 went live once (it is no failed build): with --keep 1
    it is the newest other version and stays; v1 goes. A second and a third rollback: the last one,
    with nothing older kept, says so with a hint about versions, not about the site profile."""
    for _ in range(2):
        assert run_cli("reindex", settings=settings).returncode == 0
    assert run_cli("rollback", settings=settings).returncode == 0
    out = json.loads(run_cli("versions", "--keep", "1", "--dry-run", "--format", "json", settings=settings).stdout)
    assert [v["live"] for v in out] == [False, True, False]
    assert [v["name"] for v in out if v["action"]] == [f"{index_alias}-v1"], out
    assert run_cli("rollback", settings=settings).returncode == 0  # v1 live
    done = run_cli("rollback", settings=settings)
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert f"no version of {index_alias!r} older than {index_alias}-v1" in done.stderr, done.stderr
    assert "site profile" not in done.stderr and "mfa-ingest versions" in done.stderr, done.stderr
    assert "rollback --to" in done.stderr


def test_a_transcript_of_1_december_0115_moscow_time_counts_in_december(settings, es, index_alias, sample_records):
    from datetime import datetime

    from pipeline.ingest import ingest
    from pipeline.model.records import MOSCOW

    early = sample_records[0].model_copy(update={"published_at": datetime(2021, 12, 1, 1, 15, tzinfo=MOSCOW)})
    report = ingest(RunContext.build(settings), [early])
    assert report.new == 1
    es.indices.refresh(index=index_alias)
    out = json.loads(run_cli("stats", "--by", "month", "--json", settings=settings).stdout)
    assert out["buckets"] == {"2021-12": 1}  # 30 November 22:15 UTC
    assert json.loads(run_cli("stats", "--json", settings=settings).stdout)["by_month"] == {"2021-12": 1}
    out = json.loads(run_cli("search", "--from", "2021-12-01", "--to", "2021-12-01", "--json", settings=settings).stdout)
    assert out["total"] == 1


def test_stats_by_month_shows_the_empty_months_between(settings, es, index_alias, sample_records):
    """January and March: February is there with 0 (a gap in a series is a fact, not a missing row)."""
    from datetime import datetime

    from pipeline.ingest import ingest
    from pipeline.model.records import MOSCOW

    docs = [sample_records[n].model_copy(update={"published_at": datetime(2021, month, 10, 12, tzinfo=MOSCOW)})
            for n, month in ((0, 1), (1, 3))]
    assert ingest(RunContext.build(settings), docs).new == 2
    es.indices.refresh(index=index_alias)
    out = json.loads(run_cli("stats", "--by", "month", "--json", settings=settings).stdout)
    assert out["buckets"] == {"2021-01": 1, "2021-02": 0, "2021-03": 1}, out
    out = json.loads(run_cli("stats", "--by", "month", "--count", "turns", "--json", settings=settings).stdout)
    assert list(out["buckets"]) == ["2021-01", "2021-02", "2021-03"] and out["buckets"]["2021-02"] == 0


def test_one_person_in_several_printed_forms_is_one_speaker(settings, es, index_alias, sample_records):
    from pipeline.ingest import ingest
    from pipeline.model.records import Turn

    english = next(r for r in sample_records if any(t.speaker == "Sergey Lavrov" for t in r.turns))
    russian = english.model_copy(update={
        "url": "https://example.invalid/ru/1", "language": "ru", "body": english.body + "\n\nКопия.",
        "turns": [Turn(speaker="С.В.Лавров" if t.speaker == "Sergey Lavrov" else t.speaker, role=t.role, text=t.text)
                  for t in english.turns]})
    assert ingest(RunContext.build(settings), [english, russian]).new == 2
    es.indices.refresh(index=index_alias)
    lavrov_turns = sum(t.speaker == "Sergey Lavrov" for t in english.turns)
    out = json.loads(run_cli("stats", "--by", "speaker", "--count", "turns", "--json", settings=settings).stdout)
    assert out["buckets"]["Sergey Lavrov"] == 2 * lavrov_turns and "С.В.Лавров" not in out["buckets"]
    out = json.loads(run_cli("stats", "--by", "speaker", "--json", settings=settings).stdout)
    assert out["buckets"]["Sergey Lavrov"] == 2
    for asked in ("Lavrov", "Лавров"):
        out = json.loads(run_cli("search", "--speaker", asked, "--json", settings=settings).stdout)
        assert out["total"] == 2, asked
