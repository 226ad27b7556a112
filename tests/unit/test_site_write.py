"""Writing the site: atomic replacement, nothing rewritten when unchanged, gzip twins."""

from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path

import pytest

from bot.site import write_site
from bot.site.write import gzipped

FILES = {
    "index.html": b"<!doctype html><p>hello</p>\n",
    "genshin/index.html": b"<!doctype html><p>genshin</p>\n",
    "genshin/codes.json": b'{"version":1,"games":[]}\n',
    "static/site.0123abcd.css": b"body{color:#000}\n",
}


def all_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_first_write_creates_folders_files_and_gzip_twins(tmp_path: Path) -> None:
    report = write_site(tmp_path, FILES)
    assert all_files(tmp_path) == set(FILES) | {f"{p}.gz" for p in FILES}
    for rel, data in FILES.items():
        assert (tmp_path / rel).read_bytes() == data
        assert gzip.decompress((tmp_path / f"{rel}.gz").read_bytes()) == data
    assert set(report.written) == all_files(tmp_path)
    assert report.unchanged == 0
    assert report.bytes_written == sum((tmp_path / p).stat().st_size for p in report.written)


def test_files_are_readable_by_the_web_server(tmp_path: Path) -> None:
    write_site(tmp_path, FILES)
    mode = stat.S_IMODE((tmp_path / "index.html").stat().st_mode)
    assert mode & stat.S_IROTH


def test_assets_are_written_before_pages_and_index_last(tmp_path: Path) -> None:
    written = write_site(tmp_path, FILES).written
    assert written[0].startswith("static/")
    assert written[-1] == "index.html"
    # The twin goes first: a file on disk always has an up-to-date .gz beside it.
    assert written.index("index.html.gz") < written.index("index.html")


def test_unchanged_files_are_not_rewritten_and_keep_their_mtime(tmp_path: Path) -> None:
    write_site(tmp_path, FILES)
    old = 1_600_000_000
    for path in tmp_path.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))
    report = write_site(tmp_path, FILES)
    assert report.written == ()
    assert report.unchanged == len(FILES)
    assert report.bytes_written == 0
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert path.stat().st_mtime == old


def test_only_changed_files_are_written(tmp_path: Path) -> None:
    write_site(tmp_path, FILES)
    changed = dict(FILES, **{"genshin/index.html": b"<p>new code</p>\n"})
    report = write_site(tmp_path, changed)
    assert report.written == ("genshin/index.html.gz", "genshin/index.html")
    assert report.unchanged == len(FILES) - 1
    assert (tmp_path / "genshin/index.html").read_bytes() == b"<p>new code</p>\n"
    assert gzip.decompress((tmp_path / "genshin/index.html.gz").read_bytes()) == (
        b"<p>new code</p>\n"
    )


def test_a_missing_twin_is_written_again(tmp_path: Path) -> None:
    write_site(tmp_path, FILES)
    (tmp_path / "index.html.gz").unlink()
    assert write_site(tmp_path, FILES).written == ("index.html.gz", "index.html")


def test_gzip_twins_are_deterministic(tmp_path: Path) -> None:
    write_site(tmp_path / "a", FILES)
    write_site(tmp_path / "b", FILES)
    for rel in FILES:
        a = (tmp_path / "a" / f"{rel}.gz").read_bytes()
        assert a == (tmp_path / "b" / f"{rel}.gz").read_bytes() == gzipped(FILES[rel])


def test_binary_and_gz_files_get_no_twin(tmp_path: Path) -> None:
    report = write_site(tmp_path, {"icon.webp": b"RIFF", "x.json.gz": gzipped(b"{}")})
    assert sorted(report.written) == ["icon.webp", "x.json.gz"]


def test_failure_while_writing_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_site(tmp_path, FILES)
    before = all_files(tmp_path)

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        write_site(tmp_path, dict(FILES, **{"index.html": b"<p>half</p>"}))
    assert (tmp_path / "index.html").read_bytes() == FILES["index.html"]
    assert gzip.decompress((tmp_path / "index.html.gz").read_bytes()) == FILES["index.html"]
    assert all_files(tmp_path) == before


def test_failure_at_rename_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_site(tmp_path, FILES)
    before = all_files(tmp_path)
    real_replace = os.replace

    def replace_then_fail(src: str, dst: str) -> None:
        if str(dst).endswith("index.html") and "genshin" not in str(dst):
            raise PermissionError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_fail)
    with pytest.raises(PermissionError):
        write_site(tmp_path, dict(FILES, **{"index.html": b"<p>new</p>"}))
    assert (tmp_path / "index.html").read_bytes() == FILES["index.html"]
    assert all_files(tmp_path) == before
    # The twin was replaced first; the next cycle sees the stale page and writes both again.
    monkeypatch.setattr(os, "replace", real_replace)
    report = write_site(tmp_path, dict(FILES, **{"index.html": b"<p>new</p>"}))
    assert report.written == ("index.html.gz", "index.html")
    assert gzip.decompress((tmp_path / "index.html.gz").read_bytes()) == b"<p>new</p>"


@pytest.mark.parametrize(
    "bad", ["../outside.html", "/etc/passwd", "a/../../b", "", "a//b", "./x", "a\\b"]
)
def test_paths_outside_the_site_are_refused_before_anything_is_written(
    tmp_path: Path, bad: str
) -> None:
    site = tmp_path / "site"
    with pytest.raises(ValueError, match="relative path"):
        write_site(site, {"index.html": b"x", bad: b"y"})
    assert not site.exists()
