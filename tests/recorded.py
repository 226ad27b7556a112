"""Where test data lives: constructed fixtures in tests/fixtures, recorded pages in ../shared.

The recorded real pages (and the labelled extraction corpus) are kept beside the checkout in
../shared, which a fresh clone does not have. Every test, bench script and the demo finds them
through this module, and a test that needs them is marked `recorded`: it is skipped with one
reason when ../shared is absent, and fails instead when CI=true, where it must run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SHARED_FIXTURES = SHARED / "fixtures"
EXTRACTION_DEV = SHARED / "extraction-dev"
# Written for these tests; each says so (a .source.txt beside it, or a README in its folder).
LOCAL_FIXTURES = ROOT / "tests" / "fixtures"

IN_CI = os.environ.get("CI", "").lower() == "true"

ABSENT = "needs the recorded pages in ../shared beside the checkout, which is absent here"

# Marks a test, or one parameter of a test, that reads ../shared.
recorded = pytest.mark.recorded


def shared_present() -> bool:
    return SHARED.is_dir()


def require_shared() -> None:
    """Skip the running test when ../shared is absent; fail it when CI=true."""
    if shared_present():
        return
    if IN_CI:
        pytest.fail(f"CI=true: {ABSENT}", pytrace=False)
    pytest.skip(ABSENT)
