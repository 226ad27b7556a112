"""Metrics of cycles, sources, deliveries and the queue as Prometheus sees them; log context."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.app.logs import ContextFields, JsonFormatter, log_context
from bot.app.metrics import Metrics, ObservedScraper, ObservedSender
from bot.app.pipeline import CycleReport, SourceOutcome
from bot.core.domain import Announcement, Game, Platform, ScrapedCode, SourceConfig
from bot.store.outbox import Delivery, QueueDepth
from notifiers.delivery import Failed, Gone, Outcome, RateLimited, Retry, Sent
from scrapers.base import Fetched, Fetcher, SourceChanged, SourceUnavailable, Validators
from tests.conftest import FakeClock

GAME = Game(id="genshin", name="Genshin Impact", pattern="[A-Z0-9]{6,16}")


def source(sid: str) -> SourceConfig:
    return SourceConfig(id=sid, kind="fandom", game="genshin", url=f"http://127.0.0.1/{sid}")


def value(metrics: Metrics, name: str, **labels: str) -> float:
    sample = metrics.registry.get_sample_value(name, labels)
    return 0.0 if sample is None else sample


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """JSON log lines of the `codecast.test` logger, through the production filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFields())
    logger = logging.getLogger("codecast.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_cycle_report_counts_codes_sources_and_duration() -> None:
    metrics = Metrics()
    body = Fetched(body=b"<html>", validators=Validators())
    report = CycleReport(
        started_at=FakeClock()(),
        outcomes=(
            SourceOutcome(
                source("wiki"),
                (ScrapedCode("AAAA1111"), ScrapedCode("BBBB2222")),
                fetched=body,
                parse_seconds=0.02,
            ),
            SourceOutcome(source("hoyolab"), None, fetched=Fetched(None, Validators())),
            SourceOutcome(source("down"), None, error=SourceUnavailable("timed out")),
            SourceOutcome(source("moved"), None, fetched=body, error=SourceChanged("no table")),
        ),
        new_codes=2,
        newly_expired=1,
        announcements={7: 40, 8: 2},
    )

    metrics.observe_cycle(report, seconds=3.5)

    assert value(metrics, "codecast_cycles_total") == 1
    assert value(metrics, "codecast_cycle_duration_seconds_sum") == 3.5
    assert value(metrics, "codecast_codes_found_total") == 2
    assert value(metrics, "codecast_codes_expired_total") == 1
    assert value(metrics, "codecast_deliveries_queued_total") == 42
    reads = "codecast_source_reads_total"
    assert value(metrics, reads, source="wiki", game="genshin", result="ok") == 1
    assert value(metrics, reads, source="hoyolab", game="genshin", result="not_modified") == 1
    assert value(metrics, reads, source="down", game="genshin", result="unavailable") == 1
    assert value(metrics, reads, source="moved", game="genshin", result="changed") == 1
    assert value(metrics, "codecast_source_codes", source="wiki") == 2
    parse = "codecast_source_parse_duration_seconds_count"
    assert value(metrics, parse, source="wiki") == 1
    assert value(metrics, parse, source="moved") == 1
    assert value(metrics, parse, source="hoyolab") == 0  # 304: nothing parsed
    assert value(metrics, "codecast_last_cycle_timestamp_seconds") > 0


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.codes_found.inc(5)
    assert value(second, "codecast_codes_found_total") == 0


def test_queue_gauges_follow_the_outbox_and_fall_back_to_zero() -> None:
    metrics = Metrics()
    clock = FakeClock()
    now = clock()
    metrics.observe_queue(
        [
            QueueDepth("telegram", "pending", 12, now - timedelta(minutes=5)),
            QueueDepth("telegram", "sent", 100, now - timedelta(days=1)),
            QueueDepth("discord", "pending", 3, now - timedelta(seconds=30)),
        ],
        now,
    )
    assert value(metrics, "codecast_delivery_queue", platform="telegram", state="pending") == 12
    assert value(metrics, "codecast_delivery_oldest_pending_seconds", platform="telegram") == 300
    assert value(metrics, "codecast_delivery_oldest_pending_seconds", platform="discord") == 30

    metrics.observe_queue([QueueDepth("telegram", "sent", 115, now)], now)

    assert value(metrics, "codecast_delivery_queue", platform="telegram", state="pending") == 0
    assert value(metrics, "codecast_delivery_queue", platform="telegram", state="sent") == 115
    assert value(metrics, "codecast_delivery_oldest_pending_seconds", platform="telegram") == 0
    assert value(metrics, "codecast_delivery_oldest_pending_seconds", platform="discord") == 0


class ScriptedSender:
    platform = Platform.TELEGRAM

    def __init__(self, outcomes: dict[str, Outcome | Exception]) -> None:
        self.outcomes = outcomes

    async def send(self, delivery: Delivery, announcement: Announcement) -> Outcome:
        logging.getLogger("codecast.test").info("sending announcement %d", announcement.id)
        outcome = self.outcomes.get(delivery.chat_id, Sent("m1"))
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def delivery(chat: str) -> Delivery:
    return Delivery(1, 1, 1, Platform.TELEGRAM, chat, "genshin", None, None, 1)


ANNOUNCEMENT = Announcement(id=9, game="genshin", created_at=FakeClock()(), codes=())


async def test_observed_sender_counts_outcomes_and_names_the_chat_in_logs(
    captured: io.StringIO,
) -> None:
    metrics = Metrics()
    inner = ScriptedSender(
        {
            "b": RateLimited(3.0),
            "c": Gone("blocked"),
            "d": Failed("bad request"),
            "e": Retry("502"),
            "f": RuntimeError("bug"),
        }
    )
    sender = ObservedSender(inner, metrics)
    assert sender.platform is Platform.TELEGRAM

    for chat in "abcde":
        await sender.send(delivery(chat), ANNOUNCEMENT)
    with pytest.raises(RuntimeError):
        await sender.send(delivery("f"), ANNOUNCEMENT)

    for outcome in ("sent", "rate_limited", "gone", "failed", "retry", "error"):
        count = value(metrics, "codecast_deliveries_total", platform="telegram", outcome=outcome)
        assert count == 1, outcome
    logged = lines(captured)
    assert [entry["chat"] for entry in logged] == list("abcdef")
    assert {(e["platform"], e["game"]) for e in logged} == {("telegram", "genshin")}


class SlowScraper:
    async def fetch(
        self, fetcher: Fetcher, source: SourceConfig, validators: Validators
    ) -> Fetched:
        await asyncio.sleep(0.05)
        if source.id == "down":
            raise SourceUnavailable("timed out")
        return Fetched(b"AAAA1111", validators)

    def parse(self, body: bytes, game: Game, source: SourceConfig) -> list[ScrapedCode]:
        logging.getLogger("codecast.test").info("parsing %d bytes", len(body))
        return [ScrapedCode(body.decode())]


async def test_observed_scraper_times_fetches_and_tags_parse_logs(captured: io.StringIO) -> None:
    metrics = Metrics()
    scraper = ObservedScraper(SlowScraper(), metrics)
    fetcher: Fetcher = None  # type: ignore[assignment]  # the stand-in never uses it

    fetched = await scraper.fetch(fetcher, source("wiki"), Validators())
    with pytest.raises(SourceUnavailable):
        await scraper.fetch(fetcher, source("down"), Validators())
    assert fetched.body is not None
    # The pipeline parses in a worker thread; the context travels with it.
    codes = await asyncio.to_thread(scraper.parse, fetched.body, GAME, source("wiki"))

    assert codes == [ScrapedCode("AAAA1111")]
    fetches = "codecast_source_fetch_duration_seconds"
    for sid in ("wiki", "down"):
        assert value(metrics, f"{fetches}_count", source=sid) == 1
        assert value(metrics, f"{fetches}_sum", source=sid) >= 0.05
    (entry,) = lines(captured)
    assert (entry["source"], entry["game"]) == ("wiki", "genshin")
    assert "platform" not in entry


def test_log_context_nests_and_ends_with_its_block(captured: io.StringIO) -> None:
    logger = logging.getLogger("codecast.test")
    with log_context(game="hsr"):
        with log_context(platform="discord", chat="42"):
            logger.info("inner")
        logger.info("outer", extra={"source": "game8-hsr"})
    logger.info("outside")
    inner, outer, outside = lines(captured)
    assert (inner["game"], inner["platform"], inner["chat"]) == ("hsr", "discord", "42")
    assert (outer["game"], outer["source"]) == ("hsr", "game8-hsr")
    assert "chat" not in outer
    assert set(outside) == {"time", "level", "logger", "message"}


def test_verification_checks_by_outcome_and_the_queue_age() -> None:
    from datetime import UTC, datetime

    from bot.app.verifier import Checked
    from bot.core.verification import Outcome
    from bot.store.verify_queue import QueueStats
    from scrapers.verify import Answer

    metrics = Metrics()
    valid = Answer(Outcome.VALID, -2017, "This Redemption Code is already in use")
    out = Answer(Outcome.ACCOUNT_OUT, -1071, "Please log in to your account first")
    for answer in (valid, valid, out):
        metrics.observe_verification(Checked("genshin", "GENSHINGIFT", "alt-1", answer))
    assert (
        value(metrics, "codecast_verification_checks_total", game="genshin", outcome="valid") == 2
    )
    assert (
        value(metrics, "codecast_verification_checks_total", game="genshin", outcome="account-out")
        == 1
    )
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    metrics.observe_verification_queue(QueueStats(5, 2, now - timedelta(seconds=42)), now)
    assert value(metrics, "codecast_verification_queue", state="queued") == 5
    assert value(metrics, "codecast_verification_queue", state="due") == 2
    assert value(metrics, "codecast_verification_oldest_due_seconds") == 42
    metrics.observe_verification_queue(QueueStats(5, 0, None), now)
    assert value(metrics, "codecast_verification_oldest_due_seconds") == 0
