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
import functools
import logging
import os
import sys
from collections.abc import Callable

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
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    mallopt = _glibc("mallopt", ctypes.c_int, ctypes.c_int)
    if mallopt is None:
        return False
    done = bool(mallopt(M_ARENA_MAX, arenas))
    log.debug("malloc arenas capped at %d: %s", arenas, done)
    return done


def give_back() -> bool:
    """Hand the pages malloc holds free back to the system (glibc's `malloc_trim(0)`); True
    when some were.

    malloc returns memory to the system only from the top of its heap: a page freed below
    a block still in use stays in the process (and in its RSS) until malloc reuses it. A
    daemon whose work comes in bursts (a site snapshot of every code, a fan-out's rows)
    leaves such holes after each one, and the holes add up as the bursts grow with the
    database. `malloc_trim` releases every free page of every arena, holes included; it
    takes a few milliseconds and keeps nothing from being reused later.
    """
    trim = _glibc("malloc_trim", ctypes.c_size_t)
    return bool(trim(0)) if trim is not None else False


@functools.cache
def _glibc(
    name: str, *argtypes: type[ctypes.c_int | ctypes.c_size_t]
) -> Callable[..., int] | None:
    """glibc's function `name` (taking `argtypes`, returning an int), None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = getattr(ctypes.CDLL(None), name)  # the C library the process runs on
    except (OSError, AttributeError):
        return None  # not glibc (musl has neither mallopt nor malloc_trim)
    function.argtypes = list(argtypes)
    function.restype = ctypes.c_int
    return function  # type: ignore[no-any-return]
