"""Write the rendered site to disk atomically, touching only the files whose bytes changed."""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

log = logging.getLogger(__name__)

# Files nginx serves with `gzip_static on`: each gets a precompressed twin beside it.
COMPRESSED_SUFFIXES = frozenset({".html", ".json", ".xml", ".txt", ".css", ".js", ".svg"})
# mtime=0 and a fixed level make the .gz a pure function of the file, so it is written
# exactly when the file is.
_GZIP_LEVEL = 9
_FILE_MODE = 0o644


@dataclass(frozen=True)
class WriteReport:
    written: tuple[str, ...]  # relative paths, in the order they were written (with .gz twins)
    unchanged: int  # files of the mapping left as they were
    bytes_written: int


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=_GZIP_LEVEL, mtime=0)


def write_site(site_dir: Path, files: Mapping[str, bytes]) -> WriteReport:
    """Bring site_dir up to date with `files` (relative path -> bytes).

    A file whose bytes already match is not touched (its mtime, and so the server's
    Last-Modified and ETag, stay). Every write goes to a temporary file in the same folder,
    is flushed to disk, then renamed over the old file, so a reader sees the old or the new
    file, never half of one. Text files also get a `.gz` twin for nginx's gzip_static; the
    twin is written before its file, so a file on disk always has an up-to-date twin.
    Files that are no longer rendered are left in place: a cached page may still link to an
    old stylesheet, and a vanished game's page keeps working.
    """
    plan = sorted(files.items(), key=lambda item: _write_order(item[0]))
    for rel, _ in plan:
        _check_relative(rel)
    written: list[str] = []
    unchanged = 0
    total = 0
    touched_dirs: set[Path] = set()
    for rel, data in plan:
        target = site_dir.joinpath(*PurePosixPath(rel).parts)
        twin = _needs_twin(rel)
        twin_target = target.with_name(target.name + ".gz")
        if _same_bytes(target, data) and (not twin or twin_target.exists()):
            unchanged += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if twin:
            packed = gzipped(data)
            replace_atomically(twin_target, packed)
            written.append(rel + ".gz")
            total += len(packed)
        replace_atomically(target, data)
        written.append(rel)
        total += len(data)
        touched_dirs.add(target.parent)
    for folder in sorted(touched_dirs):
        _sync_dir(folder)
    if written:
        log.debug("site: wrote %d files (%d bytes), %d unchanged", len(written), total, unchanged)
    return WriteReport(written=tuple(written), unchanged=unchanged, bytes_written=total)


def _write_order(rel: str) -> tuple[int, str]:
    # Hashed assets first, so that no new page ever points at a stylesheet not yet on disk;
    # index.html last, so the front page changes only once the pages it links to have.
    if rel.startswith("static/"):
        return (0, rel)
    if rel == "index.html":
        return (2, rel)
    return (1, rel)


def _check_relative(rel: str) -> None:
    path = PurePosixPath(rel)
    if (
        not rel
        or "\\" in rel
        or "\x00" in rel
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in rel.split("/"))
    ):
        raise ValueError(f"not a plain relative path inside the site: {rel!r}")


def _needs_twin(rel: str) -> bool:
    return PurePosixPath(rel).suffix.lower() in COMPRESSED_SUFFIXES


def _same_bytes(target: Path, data: bytes) -> bool:
    try:
        if target.stat().st_size != len(data):
            return False
        return target.read_bytes() == data
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return False


def replace_atomically(target: Path, data: bytes) -> None:
    # Hidden name with the target's name in it: easy to recognise if a crash (power loss,
    # SIGKILL) ever leaves one behind, and nginx does not serve dot files by name mistake.
    with tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
    ) as handle:
        temp = Path(handle.name)
        try:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            # NamedTemporaryFile creates 0600; the web server must be able to read the file.
            os.chmod(handle.fileno(), _FILE_MODE)
        except BaseException:
            handle.close()
            temp.unlink(missing_ok=True)
            raise
    try:
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _sync_dir(folder: Path) -> None:
    # The renames are durable only once the folder itself is flushed.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
