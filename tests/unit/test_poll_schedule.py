"""The poll schedule and politeness per host on a fast-forwarded event loop clock (no sleeps)."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.app.schedule import FIRST_ROUND_SECONDS, PollSchedule
from bot.core.cadence import Cadence
from bot.core.domain import Livestream, SourceConfig, Trust
from scrapers.base import SourceThrottled, SourceUnavailable
from scrapers.politeness import HostGate, HostResting

pytestmark = pytest.mark.looptime

START = datetime(2026, 12, 19, 10, 0, tzinfo=UTC)
HOUR = 3600.0


def src(source_id: str, kind: str, trust: Trust, game: str = "genshin") -> SourceConfig:
    return SourceConfig(
        id=source_id, kind=kind, game=game, url=f"https://{source_id}.test/", trust=trust
    )


OFFICIAL = src("official", "hoyolab", Trust.OFFICIAL)
WIKI = src("wiki", "fandom", Trust.CURATED)
GUIDE = src("guide", "game8", Trust.CURATED)
PAGE = src("page", "page", Trust.PAGE)
OTHER_WIKI = src("hsr-wiki", "fandom", Trust.CURATED, game="hsr")
SOURCES = (OFFICIAL, WIKI, GUIDE, PAGE, OTHER_WIKI)


def loop_time() -> float:
    return asyncio.get_running_loop().time()


def wall_clock() -> datetime:
    """UTC time that moves with the event loop's (fast-forwarded) clock."""
    return START + timedelta(seconds=loop_time())


class Polls:
    """A poll function that records when each source was polled, and never overlaps one."""

    def __init__(
        self,
        *,
        takes: dict[str, float] | None = None,
        finds: Callable[[str, float], int] | None = None,
    ) -> None:
        self.at: dict[str, list[float]] = defaultdict(list)
        self.takes = takes or {}
        self.finds = finds or (lambda source_id, at: 0)
        self.running: set[str] = set()

    async def __call__(self, source: SourceConfig) -> int:
        assert source.id not in self.running, f"{source.id} polled twice at once"
        now = loop_time()
        self.at[source.id].append(now)
        self.running.add(source.id)
        try:
            await asyncio.sleep(self.takes.get(source.id, 0.0))
        finally:
            self.running.discard(source.id)
        return self.finds(source.id, now)

    def gaps(self, source_id: str, since: float = 0.0, until: float = float("inf")) -> list[float]:
        times = self.at[source_id]
        return [b - a for a, b in itertools.pairwise(times) if since <= a and b <= until]


async def run(schedule: PollSchedule, seconds: float) -> None:
    schedule.start()
    await asyncio.sleep(seconds)
    await schedule.stop(grace=0)


def schedule_of(polls: Polls, **options: object) -> PollSchedule:
    return PollSchedule(
        SOURCES,
        Cadence(**options),  # type: ignore[arg-type]
        polls,
        clock=wall_clock,
        rng=random.Random(15),
    )


async def test_each_source_is_polled_at_its_own_interval_with_jitter() -> None:
    polls = Polls()
    await run(schedule_of(polls), 2 * HOUR)
    expected = {"official": 60, "wiki": 60, "guide": 300, "page": 600, "hsr-wiki": 60}
    for source_id, interval in expected.items():
        gaps = polls.gaps(source_id)
        assert gaps, source_id
        assert min(gaps) >= interval * 0.95 - 1e-6, source_id
        assert max(gaps) <= interval * 1.05 + 1e-6, source_id
        assert abs(sum(gaps) / len(gaps) - interval) < interval * 0.02, source_id
    # The first round is spread over a few seconds, not fired at once.
    firsts = [polls.at[s.id][0] for s in SOURCES]
    assert max(firsts) <= 10.0
    assert len(set(firsts)) == len(firsts)


async def test_the_setting_gives_every_source_without_its_own_interval_one_cadence() -> None:
    polls = Polls()
    await run(schedule_of(polls, override=2.0), 60)
    for source in SOURCES:
        assert all(1.9 - 1e-6 <= g <= 2.1 + 1e-6 for g in polls.gaps(source.id)), source.id
        assert len(polls.at[source.id]) >= 28


class OneOfficialCode:
    """The official source shows one new code, at its first poll after `after` seconds."""

    def __init__(self, after: float) -> None:
        self.after = after
        self.found_at: float | None = None

    def __call__(self, source_id: str, at: float) -> int:
        if source_id == "official" and at >= self.after and self.found_at is None:
            self.found_at = at
            return 1
        return 0


async def test_an_official_new_code_bursts_its_games_official_and_wiki_sources() -> None:
    code = OneOfficialCode(after=5 * 60.0)
    polls = Polls(finds=code)
    await run(schedule_of(polls), 4 * HOUR)
    assert code.found_at is not None
    found_at = code.found_at
    ends = found_at + 2 * HOUR
    for source_id in ("official", "wiki"):
        before = polls.gaps(source_id, until=found_at)
        during = polls.gaps(source_id, since=found_at + 21, until=ends)
        after = polls.gaps(source_id, since=ends + 61)
        assert all(g >= 57 for g in before), source_id
        assert all(19 <= g <= 21 for g in during), source_id
        assert len(during) > 340, source_id  # two hours at 20 s
        assert after, source_id
        assert all(57 <= g <= 63 for g in after), source_id
    # The wiki is asked within one burst interval of the official code, not a minute later.
    assert any(found_at < t <= found_at + 20 for t in polls.at["wiki"])
    # Editorial pages and other games keep their pace.
    assert all(g >= 285 for g in polls.gaps("guide"))
    assert all(g >= 57 for g in polls.gaps("hsr-wiki"))


async def test_a_new_code_from_a_wiki_starts_no_burst() -> None:
    polls = Polls(finds=lambda source_id, at: int(source_id == "wiki"))
    await run(schedule_of(polls), HOUR)
    assert all(g >= 57 for g in polls.gaps("wiki"))
    assert all(g >= 57 for g in polls.gaps("official"))


async def test_a_catalog_livestream_bursts_from_its_start_to_its_end() -> None:
    starts = START + timedelta(hours=1)
    stream = Livestream("genshin", starts, starts + timedelta(hours=2))
    polls = Polls()
    schedule = PollSchedule(
        SOURCES, Cadence(), polls, livestreams=[stream], clock=wall_clock, rng=random.Random(3)
    )
    await run(schedule, 4 * HOUR)
    begin, end = HOUR, 3 * HOUR
    for source_id in ("official", "wiki"):
        # Polled at the very start of the window, then every 20 s until its end.
        assert begin in polls.at[source_id], source_id
        assert all(g >= 57 for g in polls.gaps(source_id, until=begin - 0.001)), source_id
        during = polls.gaps(source_id, since=begin, until=end)
        assert all(19 <= g <= 21 for g in during), source_id
        assert len(during) >= 355, source_id
        assert all(57 <= g <= 63 for g in polls.gaps(source_id, since=end + 21)), source_id
    assert all(g >= 57 for g in polls.gaps("hsr-wiki"))


async def test_a_slow_source_never_delays_the_others() -> None:
    # The guide takes ten minutes to answer each time; everyone else keeps time meanwhile.
    polls = Polls(takes={"guide": 600.0})
    await run(schedule_of(polls), HOUR)
    for source_id in ("official", "wiki", "hsr-wiki"):
        assert all(57 <= g <= 63 for g in polls.gaps(source_id)), source_id
        assert len(polls.at[source_id]) >= 59
    # The slow one is never asked twice at once (Polls checks), and starts again as soon
    # as its interval from the last start has passed.
    assert all(g >= 600 for g in polls.gaps("guide"))


async def test_a_poll_that_raises_does_not_end_the_schedule() -> None:
    calls: list[float] = []

    async def broken(source: SourceConfig) -> int:
        calls.append(loop_time())
        raise RuntimeError("a bug")

    schedule = PollSchedule([WIKI], Cadence(), broken, clock=wall_clock, rng=random.Random(1))
    await run(schedule, 10 * 60)
    assert len(calls) >= 9


async def test_stop_lets_a_poll_under_way_finish_and_start_polls_again() -> None:
    polls = Polls(takes={"wiki": 30.0})
    schedule = PollSchedule([WIKI], Cadence(), polls, clock=wall_clock, rng=random.Random(2))
    schedule.start()
    await asyncio.sleep(FIRST_ROUND_SECONDS + 1)  # the first poll has begun, not ended
    assert polls.running
    await schedule.stop(grace=30)
    assert not polls.running
    stopped = len(polls.at["wiki"])
    await asyncio.sleep(600)
    assert len(polls.at["wiki"]) == stopped
    await run(schedule, 130)
    assert len(polls.at["wiki"]) >= stopped + 2


# --- politeness per host ---------------------------------------------------------------------


class Host:
    """Requests to one host: when each started and ended; fails on demand."""

    def __init__(self, gate: HostGate, takes: float = 0.5) -> None:
        self.gate = gate
        self.takes = takes
        self.spans: list[tuple[float, float]] = []
        self.fail: Callable[[int], SourceUnavailable | None] = lambda n: None

    async def poll(self, url: str) -> None:
        async with self.gate.turn(url) as turn:
            started = loop_time()
            await asyncio.sleep(self.takes)
            self.spans.append((started, loop_time()))
            error = self.fail(len(self.spans))
            if error is not None:
                turn.failure(
                    retry_after=error.retry_after, throttled=isinstance(error, SourceThrottled)
                )

    def pauses(self) -> list[float]:
        return [b[0] - a[1] for a, b in itertools.pairwise(self.spans)]


async def test_polls_of_one_host_go_one_at_a_time_and_keep_their_spacing() -> None:
    host = Host(HostGate(spacing=10.0))
    # Four sources of one site fall due at the same moment, twice.
    urls = [f"https://guide.test/codes/{n}" for n in range(4)]
    await asyncio.gather(*(host.poll(url) for url in urls))
    await asyncio.sleep(100)
    await asyncio.gather(*(host.poll(url) for url in urls))
    assert len(host.spans) == 8
    assert all(pause >= 10.0 - 1e-6 for pause in host.pauses())
    # Other hosts are not held up by this one.
    other = Host(host.gate)
    started = loop_time()
    await asyncio.gather(host.poll(urls[0]), other.poll("https://wiki.test/api.php"))
    assert other.spans[0][0] == started


async def test_the_official_api_has_its_own_smaller_spacing() -> None:
    gate = HostGate(spacing=10.0, spacing_for={"api.official.test": 1.0})
    official, guide = Host(gate, takes=0.2), Host(gate, takes=0.2)
    await asyncio.gather(
        *(official.poll(f"https://api.official.test/codes?game={n}") for n in range(3)),
        *(guide.poll(f"https://guide.test/{n}") for n in range(3)),
    )
    assert all(1.0 - 1e-6 <= p < 2.0 for p in official.pauses())
    assert all(p >= 10.0 - 1e-6 for p in guide.pauses())


async def ask_every(host: Host, url: str, seconds: float, asks: int) -> int:
    """A source due every `seconds`; returns how many of its polls the resting host skipped."""
    skipped = 0
    while len(host.spans) < asks:
        try:
            await host.poll(url)
        except HostResting:
            skipped += 1
        await asyncio.sleep(seconds)
    return skipped


async def test_retry_after_is_waited_out_before_the_host_is_asked_again() -> None:
    host = Host(HostGate(spacing=10.0))
    host.fail = lambda n: SourceThrottled("HTTP 429", retry_after=600.0) if n == 1 else None
    skipped = await ask_every(host, "https://busy.test/a", 20.0, asks=2)
    assert 600.0 <= host.pauses()[0] < 621.0
    assert skipped >= 29


async def test_a_host_that_keeps_failing_is_polled_less_and_less_often_until_it_answers() -> None:
    gate = HostGate(spacing=10.0)
    host = Host(gate)
    host.fail = lambda n: SourceUnavailable("HTTP 502") if n <= 6 else None
    await ask_every(host, "https://down.test/codes", 10.0, asks=9)
    # One failure is forgiven; then it rests a minute, two, four, eight, sixteen; then a
    # success and the source's own pace again.
    rests = [0, 60, 120, 240, 480, 960, 0, 0]
    for pause, rest in zip(host.pauses(), rests, strict=True):
        assert max(rest, 10.0) - 1e-6 <= pause < max(rest, 10.0) + 11.0, host.pauses()
    assert gate.failures("down.test") == 0
    assert gate.resting_until("https://down.test/codes") is None


async def test_a_429_without_retry_after_rests_the_host_at_once() -> None:
    host = Host(HostGate(spacing=10.0))
    host.fail = lambda n: SourceThrottled("HTTP 429") if n == 1 else None
    await ask_every(host, "https://busy.test/a", 10.0, asks=2)
    assert 60.0 - 1e-6 <= host.pauses()[0] < 71.0


async def test_the_schedule_waits_for_a_resting_host_instead_of_asking_it() -> None:
    gate = HostGate(spacing=10.0)
    asked: list[float] = []

    async def poll(source: SourceConfig) -> int:
        async with gate.turn(source.url) as turn:
            asked.append(loop_time())
            if len(asked) == 1:
                turn.failure(retry_after=900.0, throttled=True)
        return 0

    schedule = PollSchedule(
        [WIKI],
        Cadence(),
        poll,
        clock=wall_clock,
        rng=random.Random(4),
        resting_until=lambda s: gate.resting_until(s.url),
    )
    await run(schedule, 1200)
    # Asked once, then not before the 15 minutes it asked for (no skipped polls between).
    assert asked[1] - asked[0] >= 900.0
    assert all(57 <= b - a <= 63 for a, b in itertools.pairwise(asked[1:]))
