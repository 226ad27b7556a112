"""The scraper registry: every catalog kind has a module that keeps the scraper contract."""

from __future__ import annotations

import inspect
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from scrapers import SCRAPERS, fetch_for, scraper_for

ROOT = Path(__file__).resolve().parents[2]


def catalog_kinds() -> set[str]:
    text = resources.files("bot.core").joinpath("catalog.toml").read_text(encoding="utf-8")
    return {source["kind"] for source in tomllib.loads(text)["sources"]}


@pytest.mark.parametrize("kind", sorted(SCRAPERS))
def test_every_registered_scraper_keeps_the_contract(kind: str) -> None:
    module = SCRAPERS[kind]
    assert inspect.iscoroutinefunction(module.fetch)
    assert list(inspect.signature(module.fetch).parameters) == ["fetcher", "source", "validators"]
    assert callable(module.parse)
    assert not inspect.iscoroutinefunction(module.parse)
    assert list(inspect.signature(module.parse).parameters) == ["body", "game", "source"]
    assert inspect.getdoc(module), f"scrapers.{kind} needs a module docstring"


@pytest.mark.parametrize("kind", sorted(catalog_kinds()))
def test_every_kind_in_the_built_in_catalog_is_registered(kind: str) -> None:
    assert scraper_for(kind) is SCRAPERS[kind]


def test_an_unknown_kind_is_a_clear_key_error() -> None:
    with pytest.raises(KeyError, match=r"no scraper for kind 'nosuchkind' \(known: .*fandom"):
        scraper_for("nosuchkind")


def test_the_generic_page_extractor_is_registered() -> None:
    from scrapers import page

    assert callable(page.fetch)
    assert callable(page.parse)
    assert SCRAPERS.get("page") is page


@pytest.mark.parametrize("kind", sorted(SCRAPERS))
def test_the_daemon_fetches_each_kind_with_its_modules_own_fetch(kind: str) -> None:
    assert fetch_for(kind) is SCRAPERS[kind].fetch


def test_fetching_imports_no_parser() -> None:
    """The daemon fetches every kind without loading a parser's library (its pages are
    parsed in worker processes): checked in a fresh interpreter."""
    probe = (
        "import sys\n"
        "from scrapers import fetching_scrapers\n"
        "fetching_scrapers()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('selectolax', 'mwparserfromhell') or m.startswith('scrapers.extract')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"
