"""Where a player's report goes, or why it is refused: the pure rules of bot/core/submission."""

from __future__ import annotations

import pytest

from bot.core.diff import confirmed
from bot.core.domain import PLAYERS, CodeStatus, SourceConfig, Trust, Verification
from bot.core.submission import (
    History,
    KnownCode,
    Limits,
    Moderators,
    Refusal,
    Route,
    Situation,
    SubmissionState,
    clean_credit,
    clean_rewards,
    parse_moderators,
    route,
)

LIMITS = Limits(per_user=5, per_chat=20, ignore_after=3)
ACTIVE = KnownCode(CodeStatus.ACTIVE, announced=True, verification=Verification.UNVERIFIED)


def decide(situation: Situation, *, moderator: bool = False, verifiable: bool = False) -> object:
    return route(situation, LIMITS, moderator=moderator, verifiable=verifiable)


def test_a_new_code_goes_to_verification_when_it_can_be_checked_else_to_moderators() -> None:
    assert decide(Situation(), verifiable=True) is Route.VERIFY
    assert decide(Situation()) is Route.MODERATE
    assert decide(Situation(), moderator=True, verifiable=True) is Route.APPROVE


def test_known_codes_are_answered_before_anything_else() -> None:
    assert decide(Situation(known=ACTIVE), moderator=True) is Refusal.KNOWN_ACTIVE
    expired = KnownCode(CodeStatus.EXPIRED, True, Verification.EXPIRED)
    assert decide(Situation(known=expired)) is Refusal.KNOWN_EXPIRED
    invalid = KnownCode(CodeStatus.ACTIVE, True, Verification.INVALID)
    assert decide(Situation(known=invalid)) is Refusal.ALREADY_REJECTED
    # A code no source confirmed yet is worth a report.
    waiting = KnownCode(CodeStatus.UNKNOWN, False, Verification.UNVERIFIED)
    assert decide(Situation(known=waiting)) is Route.MODERATE


def test_earlier_reports_are_remembered() -> None:
    assert decide(Situation(earlier=SubmissionState.REJECTED)) is Refusal.ALREADY_REJECTED
    assert decide(Situation(earlier=SubmissionState.PENDING)) is Refusal.ALREADY_REPORTED
    assert decide(Situation(earlier=SubmissionState.CHECKING)) is Refusal.ALREADY_REPORTED
    # A moderator's report approves what players reported before.
    assert decide(Situation(earlier=SubmissionState.REJECTED), moderator=True) is Route.APPROVE


@pytest.mark.parametrize(
    ("situation", "refusal"),
    [
        (Situation(by_user=5), Refusal.USER_LIMIT),
        (Situation(in_chat=20), Refusal.CHAT_LIMIT),
        (Situation(history=History(accepted=1, rejected=3)), Refusal.IGNORED),
        (Situation(history=History(blocked=True)), Refusal.BLOCKED),
    ],
)
def test_limits_and_records_hold_players_back_but_not_moderators(
    situation: Situation, refusal: Refusal
) -> None:
    assert decide(situation) is refusal
    assert decide(situation, moderator=True) is Route.APPROVE


def test_a_reporter_with_more_accepted_than_rejected_reports_is_not_ignored() -> None:
    assert decide(Situation(history=History(accepted=4, rejected=3))) is Route.MODERATE
    assert decide(Situation(by_user=4, in_chat=19)) is Route.MODERATE


def test_moderators_are_read_from_one_setting() -> None:
    moderators = parse_moderators(" telegram:1001, discord:222;discord:333\nTELEGRAM:4 ")
    assert moderators.telegram == frozenset({"1001", "4"})
    assert moderators.discord == frozenset({"222", "333"})
    assert moderators.is_moderator("discord", "999", roles=("333",))
    assert not moderators.is_moderator("telegram", "222")
    assert not parse_moderators("")
    with pytest.raises(ValueError, match="telegram:<user id>"):
        parse_moderators("telegram:1001, @alice")
    assert not Moderators().is_moderator("discord", "1")


def test_player_text_is_one_bounded_line() -> None:
    assert clean_rewards("60\nPrimogems\t ×3 ") == "60 Primogems ×3"
    assert len(clean_rewards("x" * 1000)) == 300
    assert clean_credit("A very long name " * 10).endswith("…")
    assert len(clean_credit("A very long name " * 10)) == 32


def test_a_report_never_confirms_a_code_and_the_players_source_never_announces_alone() -> None:
    page = SourceConfig("page", "page", "genshin", "https://x.example", trust=Trust.PAGE)
    sources = {"page": page, PLAYERS.id: PLAYERS}
    assert not PLAYERS.announces_alone
    assert not confirmed({PLAYERS.id}, sources)
    assert not confirmed({PLAYERS.id, "page"}, sources)
    assert confirmed({"page", "other"}, sources)
