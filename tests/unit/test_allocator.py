"""The daemon caps the C allocator's arenas, unless the operator set MALLOC_ARENA_MAX."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Eight threads allocate at once; then the arenas glibc made besides the main one are
# counted: each is a heap mapped at a 64 MiB boundary (HEAP_MAX_SIZE on 64-bit systems).
THREADS = """
import sys, threading
from bot.app.allocator import limit_arenas
if sys.argv[1] == "capped":
    limit_arenas()
barrier = threading.Barrier(8)
def work():
    barrier.wait()
    kept = [bytes(1000) + bytes([i % 256]) for i in range(2_000)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
heaps = 0
for line in open("/proc/self/maps"):
    fields = line.split()
    start = int(fields[0].split("-")[0], 16)
    if len(fields) == 5 and fields[1] == "rw-p" and start % (64 << 20) == 0:
        heaps += 1
print(heaps)
"""


def arenas(mode: str, **env: str) -> int:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    result = subprocess.run(
        [sys.executable, "-c", THREADS, mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=environment,
    )
    return int(result.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_threads_share_two_arenas_instead_of_one_each() -> None:
    assert arenas("free") >= 4
    assert arenas("capped") <= 1


def test_the_operators_malloc_arena_max_wins() -> None:
    assert arenas("capped", MALLOC_ARENA_MAX="8") >= 4


# 80 MB in blocks of 4 KB, all freed but the last, which keeps malloc from giving the heap
# back by itself (it gives back only from the top): the process keeps the freed memory as
# RSS until it is given back.
HOLES = """
import ctypes, sys
from bot.app.allocator import give_back
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
blocks = [libc.malloc(4096) for _ in range(20_000)]
for block in blocks:
    ctypes.memset(block, 1, 4096)
for block in blocks[:-1]:
    libc.free(block)
held = rss()
given = give_back()
print(held, rss(), given)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_memory_freed_below_a_block_in_use_is_given_back() -> None:
    result = subprocess.run(
        [sys.executable, "-c", HOLES], capture_output=True, text=True, check=True, cwd=ROOT
    )
    held, after, given = result.stdout.split()
    assert given == "True"
    assert int(held) - int(after) >= 60, result.stdout
