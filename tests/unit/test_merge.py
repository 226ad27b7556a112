"""The pure rules of the domain: normalise, merge, diff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.diff import StoredCode, diff, status_after
from bot.core.domain import CodeStatus, Game, RewardItem, ScrapedCode, SourceConfig, Trust
from bot.core.merge import SourceCodes, merge, merge_with_stored
from bot.core.normalize import normalize

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
GAME = Game(id="genshin", name="Genshin Impact", pattern="[A-Za-z0-9]{6,20}")
WIKI = SourceConfig(id="wiki", kind="fandom", game="genshin", url="https://w", trust=Trust.CURATED)
LAB = SourceConfig(id="lab", kind="hoyolab", game="genshin", url="https://l", trust=Trust.OFFICIAL)
PAGE = SourceConfig(id="page", kind="page", game="genshin", url="https://p", trust=Trust.PAGE)
PAGE2 = SourceConfig(id="page2", kind="page", game="genshin", url="https://q", trust=Trust.PAGE)
SOURCES = {s.id: s for s in (WIKI, LAB, PAGE, PAGE2)}


def listing(source: SourceConfig, *codes: ScrapedCode, first: bool = False) -> SourceCodes:
    return SourceCodes(source=source, codes=codes, first_success=first)


def test_normalize_drops_codes_that_do_not_match_the_pattern() -> None:
    codes = normalize(
        [ScrapedCode("GENSHINGIFT"), ScrapedCode("ab"), ScrapedCode("x" * 50)], GAME, NOW
    )
    assert [c.code for c in codes] == ["GENSHINGIFT"]


def test_normalize_drops_china_only_codes() -> None:
    codes = normalize([ScrapedCode("YuanShen", server="CN"), ScrapedCode("ABCDEF123")], GAME, NOW)
    assert [c.code for c in codes] == ["ABCDEF123"]


def test_normalize_keeps_first_spelling_and_expiry_wins_within_a_source() -> None:
    codes = normalize(
        [
            ScrapedCode("GenshinGift", CodeStatus.ACTIVE),
            ScrapedCode("GENSHINGIFT", CodeStatus.EXPIRED),
        ],
        GAME,
        NOW,
    )
    assert len(codes) == 1
    assert codes[0].code == "GenshinGift"
    assert codes[0].status is CodeStatus.EXPIRED


def test_passed_expiry_date_is_an_explicit_expiry() -> None:
    [code] = normalize(
        [ScrapedCode("ABCDEF123", CodeStatus.ACTIVE, expires_at=NOW - timedelta(hours=1))],
        GAME,
        NOW,
    )
    assert code.status is CodeStatus.EXPIRED


def test_normalize_bounds_rewards_and_drops_non_web_icon_urls() -> None:
    from bot.core.domain import RewardItem

    [code] = normalize(
        [
            ScrapedCode(
                "ABCDEF123",
                rewards="x " * 1000,
                items=(RewardItem("Primogem", 60, "javascript:alert(1)"),),
            )
        ],
        GAME,
        NOW,
    )
    assert len(code.rewards) <= 300
    assert code.items[0].icon_url is None


def test_merge_is_case_insensitive_and_prefers_the_official_spelling() -> None:
    merged = merge(
        [
            listing(WIKI, ScrapedCode("genshingift", CodeStatus.ACTIVE, rewards="60 Primogems")),
            listing(LAB, ScrapedCode("GENSHINGIFT", CodeStatus.ACTIVE)),
        ]
    )
    code = merged[("genshin", "GENSHINGIFT")]
    assert code.code == "GENSHINGIFT"
    assert code.rewards == "60 Primogems"
    assert set(code.sources) == {"wiki", "lab"}


def test_official_items_without_names_are_named_by_a_source_listing_the_same_amounts() -> None:
    icon = "https://cdn.example/primogem.png"
    unnamed = (RewardItem("", 100, icon), RewardItem("", 10, None))
    named = (RewardItem("Primogem", 100), RewardItem("Mystic Enhancement Ore", 10, "https://w/o"))
    merged = merge(
        [
            listing(WIKI, ScrapedCode("LIVE12345", CodeStatus.ACTIVE, items=named)),
            listing(LAB, ScrapedCode("LIVE12345", CodeStatus.ACTIVE, items=unnamed)),
        ]
    )
    assert merged[("genshin", "LIVE12345")].items == (
        RewardItem("Primogem", 100, icon),
        RewardItem("Mystic Enhancement Ore", 10, "https://w/o"),
    )


def test_items_of_other_amounts_do_not_name_the_official_ones() -> None:
    unnamed = (RewardItem("", 100, None), RewardItem("", 10, None))
    other = (RewardItem("Primogem", 60), RewardItem("Mora", 10))
    merged = merge(
        [
            listing(WIKI, ScrapedCode("LIVE12345", CodeStatus.ACTIVE, items=other)),
            listing(LAB, ScrapedCode("LIVE12345", CodeStatus.ACTIVE, items=unnamed)),
        ]
    )
    assert merged[("genshin", "LIVE12345")].items == unnamed


def test_an_untrusted_page_alone_cannot_expire_a_code_a_wiki_lists_as_active() -> None:
    merged = merge(
        [
            listing(WIKI, ScrapedCode("ABCDEF123", CodeStatus.ACTIVE)),
            listing(PAGE, ScrapedCode("ABCDEF123", CodeStatus.EXPIRED)),
        ]
    )
    assert merged[("genshin", "ABCDEF123")].status is CodeStatus.ACTIVE


def test_a_curated_expiry_wins_over_an_active_listing() -> None:
    merged = merge(
        [
            listing(PAGE, ScrapedCode("ABCDEF123", CodeStatus.ACTIVE)),
            listing(WIKI, ScrapedCode("ABCDEF123", CodeStatus.EXPIRED)),
        ]
    )
    assert merged[("genshin", "ABCDEF123")].status is CodeStatus.EXPIRED


def test_new_code_from_a_curated_source_is_announced() -> None:
    merged = merge([listing(WIKI, ScrapedCode("ABCDEF123", CodeStatus.ACTIVE))])
    result = diff(merged, {}, SOURCES)
    assert [c.key for c in result.new] == ["ABCDEF123"]
    assert result.announce == (("genshin", "ABCDEF123"),)


def test_new_code_first_seen_expired_is_recorded_not_announced() -> None:
    merged = merge([listing(WIKI, ScrapedCode("ABCDEF123", CodeStatus.EXPIRED))])
    result = diff(merged, {}, SOURCES)
    assert len(result.new) == 1
    assert result.announce == ()
    assert result.settle_silently == (("genshin", "ABCDEF123"),)


def test_codes_from_a_sources_first_success_are_a_baseline_not_news() -> None:
    merged = merge([listing(WIKI, ScrapedCode("ABCDEF123"), first=True)])
    result = diff(merged, {}, SOURCES)
    assert result.announce == ()
    assert result.settle_silently == (("genshin", "ABCDEF123"),)


def test_page_source_needs_confirmation_by_a_second_source() -> None:
    merged = merge([listing(PAGE, ScrapedCode("ABCDEF123"))])
    first = diff(merged, {}, SOURCES)
    assert first.announce == ()
    assert first.settle_silently == ()
    stored = {
        ("genshin", "ABCDEF123"): StoredCode(
            1, "genshin", "ABCDEF123", CodeStatus.UNKNOWN, False, frozenset({"page"})
        )
    }
    confirmed = diff(merge([listing(PAGE2, ScrapedCode("ABCDEF123"))]), stored, SOURCES)
    assert confirmed.announce == (("genshin", "ABCDEF123"),)


def test_trusted_page_source_announces_alone() -> None:
    trusted = SourceConfig(
        id="mine", kind="page", game="genshin", url="https://m", trust=Trust.PAGE, trusted=True
    )
    merged = merge([listing(trusted, ScrapedCode("ABCDEF123"))])
    assert diff(merged, {}, {"mine": trusted}).announce == (("genshin", "ABCDEF123"),)


def test_a_settled_code_is_never_announced_again() -> None:
    stored = {
        ("genshin", "ABCDEF123"): StoredCode(
            1, "genshin", "ABCDEF123", CodeStatus.ACTIVE, True, frozenset({"wiki"})
        )
    }
    merged = merge([listing(LAB, ScrapedCode("abcdef123", CodeStatus.ACTIVE))])
    result = diff(merged, stored, SOURCES)
    assert result.new == ()
    assert result.announce == ()
    assert len(result.seen) == 1


def test_explicit_expiry_of_a_stored_code_is_reported_once() -> None:
    stored = {
        ("genshin", "ABCDEF123"): StoredCode(
            1, "genshin", "ABCDEF123", CodeStatus.ACTIVE, True, frozenset({"wiki"})
        )
    }
    merged = merge([listing(WIKI, ScrapedCode("ABCDEF123", CodeStatus.EXPIRED))])
    assert len(diff(merged, stored, SOURCES).newly_expired) == 1
    stored_expired = {
        k: StoredCode(v.id, v.game, v.key, CodeStatus.EXPIRED, True, v.source_ids)
        for k, v in stored.items()
    }
    assert diff(merged, stored_expired, SOURCES).newly_expired == ()


def test_status_moves_forward_only() -> None:
    assert status_after(CodeStatus.EXPIRED, CodeStatus.ACTIVE) is CodeStatus.EXPIRED
    assert status_after(CodeStatus.UNKNOWN, CodeStatus.ACTIVE) is CodeStatus.ACTIVE
    assert status_after(CodeStatus.ACTIVE, CodeStatus.UNKNOWN) is CodeStatus.ACTIVE
    assert status_after(CodeStatus.UNKNOWN, CodeStatus.UNKNOWN) is CodeStatus.UNKNOWN


# --- one source read now, the others' last word stored ------------------------------------


def test_a_poll_merges_only_the_codes_read_now_with_the_others_last_statuses() -> None:
    fresh = [listing(PAGE, ScrapedCode("OLDCODE111", CodeStatus.EXPIRED))]
    stored = [
        listing(WIKI, ScrapedCode("OLDCODE111", CodeStatus.ACTIVE), ScrapedCode("OTHER12345")),
        listing(PAGE, ScrapedCode("OLDCODE111", CodeStatus.ACTIVE)),
    ]
    merged = merge_with_stored(fresh, stored)
    assert list(merged) == [("genshin", "OLDCODE111")]
    [code] = merged.values()
    # The untrusted page's "expired" does not outweigh the wiki's last "active"; the page's
    # own stored word is replaced by what it says now.
    assert code.status is CodeStatus.ACTIVE
    assert dict(code.sources) == {"page": CodeStatus.EXPIRED, "wiki": CodeStatus.ACTIVE}
    assert not code.baseline


def test_stored_items_name_what_an_official_source_leaves_unnamed_and_change_nothing_else() -> (
    None
):
    unnamed = (RewardItem("", 60, "https://i/p.png"), RewardItem("", 10000, None))
    named = (RewardItem("Primogem", 60), RewardItem("Mora", 10000))
    stored = [listing(WIKI, ScrapedCode("LIVE12345", items=named))]
    [code] = merge_with_stored(
        [listing(LAB, ScrapedCode("LIVE12345", items=unnamed))], stored
    ).values()
    assert code.items == (
        RewardItem("Primogem", 60, "https://i/p.png"),
        RewardItem("Mora", 10000, None),
    )
    # Named items read now are kept as read, even where stored ones differ.
    fixed = (RewardItem("Primogem", 80), RewardItem("Mora", 10000))
    [again] = merge_with_stored(
        [listing(WIKI, ScrapedCode("LIVE12345", items=fixed))], stored
    ).values()
    assert again.items == fixed
