"""Golden tests of the generic extractor on the labelled corpus and on recorded real pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.catalog import load_catalog
from bot.core.domain import CodeStatus, Game, ScrapedCode
from scrapers.page import extract_codes
from tests.recorded import EXTRACTION_DEV as CORPUS
from tests.recorded import SHARED_FIXTURES as RECORDED
from tests.recorded import recorded

CATALOG = load_catalog()

# Without ../shared there is nothing to list: one placeholder, skipped (failed when CI=true).
LABELS = sorted(CORPUS.glob("*.labels.json")) or [CORPUS / "absent.labels.json"]


def _game(game_id: str) -> Game:
    return CATALOG.game(game_id)


def _page_of(labels: Path) -> Path:
    stem = labels.name[: -len(".labels.json")]
    for ext in (".html", ".json", ".md", ".txt"):
        candidate = labels.with_name(stem + ext)
        if candidate.exists():
            return candidate
    raise FileNotFoundError(stem)


def _found(path: Path, game_id: str) -> dict[str, ScrapedCode]:
    codes = extract_codes(path.read_bytes(), _game(game_id), filename=str(path))
    return {c.code.upper(): c for c in codes}


def _upper(items: list[str]) -> set[str]:
    return {c.upper() for c in items}


@recorded
@pytest.mark.parametrize("labels_path", LABELS, ids=lambda p: p.name.split("_")[0])
def test_corpus_page_reports_no_decoy_and_nothing_unlabelled(labels_path: Path) -> None:
    labels = json.loads(labels_path.read_text(encoding="utf-8"))
    found = _found(_page_of(labels_path), labels["game"])
    gold = _upper(labels["active"] + labels["expired"] + labels["unknown_status"])
    assert not set(found) & _upper(labels["decoys"])
    assert set(found) <= gold, sorted(set(found) - gold)


@recorded
@pytest.mark.parametrize("labels_path", LABELS, ids=lambda p: p.name.split("_")[0])
def test_corpus_page_finds_every_labelled_code_its_pattern_allows(labels_path: Path) -> None:
    labels = json.loads(labels_path.read_text(encoding="utf-8"))
    game = _game(labels["game"])
    found = _found(_page_of(labels_path), labels["game"])
    gold = _upper(labels["active"] + labels["expired"] + labels["unknown_status"])
    # Codes shorter than the catalog pattern allows (e.g. five letters) cannot be found.
    reachable = {c for c in gold if game.matches(c)}
    assert reachable <= set(found), sorted(reachable - set(found))


@recorded
@pytest.mark.parametrize("labels_path", LABELS, ids=lambda p: p.name.split("_")[0])
def test_corpus_page_status_matches_labels(labels_path: Path) -> None:
    labels = json.loads(labels_path.read_text(encoding="utf-8"))
    found = _found(_page_of(labels_path), labels["game"])
    for code in _upper(labels["active"]) & set(found):
        assert found[code].status is CodeStatus.ACTIVE, code
    for code in _upper(labels["expired"]) & set(found):
        assert found[code].status is CodeStatus.EXPIRED, code


@recorded
def test_corpus_keeps_mixed_case_codes_as_written() -> None:
    path = _page_of(CORPUS / "003_sniphs98-game8-scrape_genshin.labels.json")
    codes = {c.code for c in extract_codes(path.read_bytes(), _game("genshin"))}
    assert {"MageNicolesPuzzle", "BacktoSumeru", "NicolaCoco", "WilltoWin"} <= codes


# Recorded real pages (not in the corpus): expectations from the fixtures' README.

GAME8 = RECORDED / "editorial"
FANDOM = RECORDED / "fandom" / "genshin_promotional_code_parse_text.html"


def _recorded(name: str, game_id: str) -> dict[str, ScrapedCode]:
    return _found(GAME8 / name, game_id)


@recorded
def test_game8_genshin_finds_latest_and_marks_livestream_codes_expired() -> None:
    found = _recorded("game8_genshin_codes_v5.0.html", "genshin")
    assert found["DT4BZD5RT5U9"].status is CodeStatus.ACTIVE
    assert found["2SMTYV59TLFD"].status is CodeStatus.EXPIRED
    assert found["XX3PD82ZYDGN"].status is CodeStatus.EXPIRED
    assert found["BLAZETONATLAN"].code == "BlazeToNatlan"
    # The page's sidebar ranks articles "<span>1</span><a>Dehya ...</a>": never one code.
    assert not {"1DEHYA", "2FURINA", "3BENNETT"} & set(found)


@recorded
def test_game8_hsr_finds_latest_and_livestream_codes() -> None:
    found = _recorded("game8_hsr_codes_v2.5.html", "hsr")
    assert "BKWHQ9B3G7T1M" in found
    assert "DB3FKWZ4NUG7" in found
    assert found["YUNLISNACK"].status is CodeStatus.EXPIRED


@recorded
def test_game8_zzz_finds_latest_livestream_and_paired_expired_codes() -> None:
    found = _recorded("game8_zzz_codes_v1.2.html", "zzz")
    assert {"ZENLESSGIFT", "TOURDEINFERNO", "BANDP43VWC7H"} <= set(found)
    assert found["ZZZTVCM"].status is CodeStatus.EXPIRED
    assert found["ZZZ2024"].status is CodeStatus.EXPIRED


@recorded
def test_fandom_rendered_table_finds_exactly_the_table_codes() -> None:
    found = _found(FANDOM, "genshin")
    assert set(found) == {
        "2BJ64QRZ7RT8",
        "UIVIBUQM6Q8A",
        "UIVI13C8X156",
        "LEGEDILJKSGM",
        "YUANSHEN",
    }
    assert found["YUANSHEN"].code == "YuanShen"
    assert all(c.status is CodeStatus.ACTIVE for c in found.values())
