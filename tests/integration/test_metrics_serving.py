"""Metrics against the real thing: served over HTTP, read from a real outbox, a dead database."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from bot.app.metrics import Metrics, ObservedSender, refresh_queue
from bot.app.settings import Settings
from bot.core.domain import CodeStatus, Platform
from bot.store import database, repository
from bot.store.models import CodeRow
from notifiers.delivery import DeliveryWorker, Gone
from tests.conftest import FakeClock
from tests.unit.test_metrics import ScriptedSender, value


def test_metrics_are_served_over_http_in_prometheus_text_format() -> None:
    metrics = Metrics()
    metrics.observe_delivery("telegram", "sent")
    server = metrics.serve(0, "127.0.0.1")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as r:
            text = r.read().decode()
    finally:
        server.close()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert "codecast_cycle_duration_seconds" in families
    assert "process_resident_memory_bytes" in families
    (sample,) = [s for s in families["codecast_deliveries"].samples if s.name.endswith("_total")]
    assert sample.labels == {"platform": "telegram", "outcome": "sent"}
    assert sample.value == 1


def test_metrics_listen_on_this_machine_only_unless_told_otherwise() -> None:
    assert Settings(_env_file=None).metrics_host == "127.0.0.1"  # type: ignore[call-arg]
    server = Metrics().serve(0)
    try:
        assert server.server.server_address[0] == "127.0.0.1"
    finally:
        server.close()


async def test_worker_deliveries_and_queue_depth_from_a_real_outbox(sqlite_url: str) -> None:
    clock = FakeClock()
    engine = database.create_engine(sqlite_url)
    sessions = database.session_factory(engine)
    try:
        async with sessions.begin() as session:
            for chat in ("1", "2", "3"):
                await repository.subscribe(
                    session, Platform.TELEGRAM, chat, "genshin", now=clock()
                )
            code = CodeRow(
                game="genshin",
                code="ABCDEF1234",
                code_key="ABCDEF1234",
                rewards="60 Primogems",
                items=[],
                status=CodeStatus.ACTIVE,
                first_seen=clock(),
                last_seen=clock(),
                announced_at=clock(),
            )
            session.add(code)
            await session.flush()
            await repository.create_announcement(session, "genshin", [code.id], clock())
        metrics = Metrics()
        clock.advance(minutes=2)
        await refresh_queue(metrics, sessions, clock)
        pending = {"platform": "telegram", "state": "pending"}
        assert value(metrics, "codecast_delivery_queue", **pending) == 3
        oldest = value(metrics, "codecast_delivery_oldest_pending_seconds", platform="telegram")
        assert oldest == 120

        sender = ObservedSender(ScriptedSender({"3": Gone("blocked")}), metrics)
        worker = DeliveryWorker(sessions, sender, clock=clock, flush_interval=0.01)
        await worker.drain()
        await refresh_queue(metrics, sessions, clock)

        sends = "codecast_deliveries_total"
        assert value(metrics, sends, platform="telegram", outcome="sent") == 2
        assert value(metrics, sends, platform="telegram", outcome="gone") == 1
        assert value(metrics, "codecast_delivery_queue", **pending) == 0
        assert value(metrics, "codecast_delivery_queue", platform="telegram", state="sent") == 2
        assert value(metrics, "codecast_delivery_oldest_pending_seconds", platform="telegram") == 0
    finally:
        await engine.dispose()


async def test_queue_refresh_survives_an_unreachable_database() -> None:
    # Nothing listens on port 1: every connection attempt is refused.
    engine = database.create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/codecast")
    metrics = Metrics()
    try:
        await refresh_queue(metrics, database.session_factory(engine), FakeClock())
    finally:
        await engine.dispose()
    assert value(metrics, "codecast_delivery_queue", platform="telegram", state="pending") == 0
