"""Pure verification rules: answer → state, the announcement gate, the family rule, pacing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.domain import Verification
from bot.core.verification import (
    CodeCheck,
    Gate,
    Outcome,
    Pacer,
    Policy,
    account_may_speak,
    after_answer,
    backoff,
    family_of,
    gate,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = Policy()
NEW = CodeCheck(Verification.PENDING, None, 0, None)


def test_valid_is_rechecked_after_the_recheck_interval() -> None:
    step = after_answer(NEW, Outcome.VALID, NOW, POLICY)
    assert step.verification is Verification.VALID
    assert step.verified
    assert step.next_check == NOW + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("outcome", "verdict"),
    [(Outcome.EXPIRED, Verification.EXPIRED), (Outcome.INVALID, Verification.INVALID)],
)
def test_expired_and_invalid_are_final(outcome: Outcome, verdict: Verification) -> None:
    step = after_answer(NEW, outcome, NOW, POLICY)
    assert (step.verification, step.verified, step.next_check) == (verdict, True, None)


def test_not_activated_is_asked_again_every_few_minutes_for_two_days() -> None:
    step = after_answer(NEW, Outcome.NOT_ACTIVE, NOW, POLICY)
    assert step.verification is Verification.PENDING
    assert step.next_check == NOW + timedelta(minutes=5)
    assert step.not_active_since == NOW
    later = NOW + timedelta(days=1, hours=23)
    waiting = CodeCheck(Verification.PENDING, None, 0, NOW)
    again = after_answer(waiting, Outcome.NOT_ACTIVE, later, POLICY)
    assert again.verification is Verification.PENDING
    assert again.not_active_since == NOW
    gave_up = after_answer(waiting, Outcome.NOT_ACTIVE, NOW + timedelta(days=2), POLICY)
    assert gave_up.verification is Verification.UNVERIFIED
    assert gave_up.next_check is None


def test_a_not_activated_code_that_goes_live_is_valid() -> None:
    waiting = CodeCheck(Verification.PENDING, None, 0, NOW)
    step = after_answer(waiting, Outcome.VALID, NOW + timedelta(hours=3), POLICY)
    assert step.verification is Verification.VALID
    assert step.not_active_since is None


@pytest.mark.parametrize("outcome", [Outcome.COOLDOWN, Outcome.ACCOUNT_OUT])
def test_cooldown_and_account_problems_say_nothing_of_the_code(outcome: Outcome) -> None:
    step = after_answer(NEW, outcome, NOW, POLICY)
    assert step.verification is Verification.PENDING
    assert not step.verified
    assert step.attempts == 0
    assert step.next_check == NOW


def test_no_verdict_backs_off_and_a_new_code_ends_unverified() -> None:
    check = NEW
    delays = []
    for _ in range(POLICY.max_attempts - 1):
        step = after_answer(check, Outcome.NO_VERDICT, NOW, POLICY)
        assert step.verification is Verification.PENDING
        assert step.next_check is not None
        delays.append(step.next_check - NOW)
        check = CodeCheck(step.verification, None, step.attempts, None)
    assert delays == sorted(delays)
    assert delays[0] == POLICY.retry_base
    last = after_answer(check, Outcome.NO_VERDICT, NOW, POLICY)
    assert last.verification is Verification.UNVERIFIED
    assert last.next_check is None


def test_a_valid_code_whose_rechecks_fail_stays_valid_until_the_next_round() -> None:
    check = CodeCheck(Verification.VALID, NOW, POLICY.max_attempts - 1, None)
    step = after_answer(check, Outcome.NO_VERDICT, NOW, POLICY)
    assert step.verification is Verification.VALID
    assert step.next_check == NOW + POLICY.recheck


def test_backoff_is_capped() -> None:
    assert backoff(1, POLICY) == POLICY.retry_base
    assert backoff(2, POLICY) == 2 * POLICY.retry_base
    assert backoff(50, POLICY) == POLICY.retry_max


# -- the announcement gate -----------------------------------------------------------------


def test_valid_is_announced_and_invalid_or_expired_never() -> None:
    assert gate(Verification.VALID, NOW, None, NOW, POLICY) is Gate.ANNOUNCE
    assert gate(Verification.INVALID, NOW, None, NOW, POLICY) is Gate.DROP
    assert gate(Verification.EXPIRED, NOW, None, NOW, POLICY) is Gate.DROP


def test_a_pending_code_waits_then_the_trust_rules_decide() -> None:
    assert gate(Verification.PENDING, NOW, None, NOW + timedelta(seconds=89), POLICY) is Gate.HOLD
    after = NOW + timedelta(seconds=90)
    assert gate(Verification.PENDING, NOW, None, after, POLICY) is Gate.TRUST_RULES
    assert gate(Verification.UNVERIFIED, NOW, None, NOW, POLICY) is Gate.TRUST_RULES


def test_a_not_activated_code_is_held_past_the_wait() -> None:
    much_later = NOW + timedelta(hours=5)
    assert gate(Verification.PENDING, NOW, NOW, much_later, POLICY) is Gate.HOLD


# -- the Zenless family rule -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "family"),
    [
        ("ZZZ01ABCDEF", "ZZZ01"),
        ("zzz01abcdef", "ZZZ01"),
        ("ZZZ12XYZ", "ZZZ12"),
        ("ZZZFREE", None),
        ("OBOLSQUAD", None),
        ("XZZZ01ABC", None),
    ],
)
def test_family_is_zzz_and_two_digits_at_the_start(code: str, family: str | None) -> None:
    assert family_of("ZZZ[0-9]{2}", code) == family


def test_a_game_without_families_has_none() -> None:
    assert family_of(None, "ZZZ01ABCDEF") is None


def test_an_account_that_used_a_family_cannot_speak_for_a_sibling() -> None:
    assert account_may_speak("ZZZ01", None, "ZZZ01AAA")
    assert account_may_speak("ZZZ01", "ZZZ01AAA", "ZZZ01AAA")
    assert not account_may_speak("ZZZ01", "ZZZ01AAA", "ZZZ01BBB")
    assert account_may_speak(None, "ANYTHING", "OTHER")


# -- pacing ----------------------------------------------------------------------------------


def test_an_account_redeems_at_most_once_per_pace() -> None:
    pacer = Pacer(POLICY)
    assert pacer.is_ready("alt-1", NOW)
    pacer.redeemed("alt-1", NOW)
    assert not pacer.is_ready("alt-1", NOW + timedelta(seconds=5.9))
    assert pacer.is_ready("alt-1", NOW + timedelta(seconds=6))
    # Accounts are paced apart.
    assert pacer.is_ready("alt-2", NOW)


def test_a_cooldown_rests_the_account_longer_each_time_in_a_row() -> None:
    pacer = Pacer(POLICY)
    pacer.redeemed("alt-1", NOW)
    pacer.answered("alt-1", Outcome.COOLDOWN, NOW)
    first = pacer.ready_at("alt-1")
    assert first == NOW + POLICY.cooldown
    pacer.redeemed("alt-1", first)
    pacer.answered("alt-1", Outcome.COOLDOWN, first)
    assert pacer.ready_at("alt-1") == first + 2 * POLICY.cooldown
    # A real answer ends the run of strikes.
    later = first + 2 * POLICY.cooldown
    pacer.redeemed("alt-1", later)
    pacer.answered("alt-1", Outcome.VALID, later)
    pacer.redeemed("alt-1", later + POLICY.pace)
    pacer.answered("alt-1", Outcome.COOLDOWN, later + POLICY.pace)
    assert pacer.ready_at("alt-1") == later + POLICY.pace + POLICY.cooldown


def test_pacing_over_an_hour_never_bursts() -> None:
    pacer = Pacer(POLICY)
    sent: list[datetime] = []
    now = NOW
    while now < NOW + timedelta(hours=1):
        if pacer.is_ready("alt-1", now):
            pacer.redeemed("alt-1", now)
            sent.append(now)
        now += timedelta(seconds=0.5)
    gaps = {b - a for a, b in itertools.pairwise(sent)}
    assert min(gaps) >= POLICY.pace
    assert len(sent) == 600


# -- how chat messages say it ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ago", "text"),
    [
        (timedelta(seconds=5), "✓ checked 1 minute ago"),
        (timedelta(minutes=2, seconds=10), "✓ checked 2 minutes ago"),
        (timedelta(hours=3), "✓ checked 3 hours ago"),
        (timedelta(days=2), "✓ checked 2 days ago"),
    ],
)
def test_checked_text_counts_from_now(ago: timedelta, text: str) -> None:
    from bot.core.language import english
    from notifiers.telegram.format import checked_text

    assert checked_text(NOW - ago, NOW, english()) == text


def test_both_bots_say_a_code_was_checked() -> None:
    from dataclasses import replace

    from bot.core.catalog import load_catalog
    from bot.core.domain import CodeStatus, CodeView
    from notifiers.discord.format import code_field
    from notifiers.telegram.format import code_block

    view = CodeView(
        game="genshin",
        code="GENSHINGIFT",
        status=CodeStatus.ACTIVE,
        rewards="Primogems x60",
        items=(),
        first_seen=NOW - timedelta(hours=1),
        last_seen=NOW,
        expires_at=None,
        sources=("fandom-genshin",),
        verification=Verification.VALID,
        verified_at=NOW - timedelta(minutes=2),
    )
    assert "<i>✓ checked 2 minutes ago</i>" in code_block(view, NOW)
    assert "<i>✓ checked 11:58 UTC</i>" in code_block(view)
    game = load_catalog().game("genshin")
    _, value = code_field(view, game, source_names={}, redeem_in_text=False)
    assert f"✓ checked <t:{int(view.verified_at.timestamp())}:R>" in value  # type: ignore[union-attr]
    unchecked = replace(view, verification=Verification.UNVERIFIED, verified_at=None)
    assert "checked" not in code_block(unchecked, NOW)
    assert "checked" not in code_field(unchecked, game, source_names={}, redeem_in_text=False)[1]
    expired = replace(view, status=CodeStatus.EXPIRED)
    assert "checked" not in code_block(expired, NOW)
