"""The C allocator's arenas: few, so that the daemon's threads share their freed memory.

glibc's malloc gives a thread that allocates while another holds an arena an arena of its
own, up to eight per core. The daemon's threads (one per SQLite connection, the default
executor's, discord.py's heartbeat) then each keep the memory they freed in an arena no other
thread reuses, and the process's RSS creeps up as they take turns: in the soak benchmark
(bench/bench_soak.py) two arenas made the daemon ~4 MB smaller and its growth a third.
Python's own objects are not concerned (pymalloc keeps them in arenas of its own); what goes
through malloc is what C code allocates: SQLite's pages and rows, SSL buffers, aiohttp's and
SQLAlchemy's compiled parts, large Python objects.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

# mallopt's parameter for the most arenas (glibc's malloc.h).
M_ARENA_MAX = -8
# The main arena and one more: what MALLOC_ARENA_MAX=2, the usual advice for threaded Python
# services, gives.
ARENAS = 2


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap malloc's arenas, before threads start; True when done.

    Nothing is done where the C library is not glibc, or when MALLOC_ARENA_MAX is set (the
    operator's say wins).
    """
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process runs on
    except (OSError, AttributeError):
        return False  # not glibc (musl has no mallopt)
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_ARENA_MAX, arenas))
    log.debug("malloc arenas capped at %d: %s", arenas, done)
    return done
