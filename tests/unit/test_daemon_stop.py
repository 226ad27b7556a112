"""A stop that hangs still ends the process: after its deadline, or at a second signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

STUCK_STOP = textwrap.dedent(
    """
    import asyncio, signal, sys
    from bot.app.daemon import exit_if_stuck, exit_now

    async def close_the_bots() -> None:
        await asyncio.Event().wait()  # waits for an answer that never comes

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if sys.argv[1] in ("deadline", "waiting"):
            exit_if_stuck(0.5)
        else:
            loop.add_signal_handler(signal.SIGTERM, exit_now, "a second signal")
        print("stopping", flush=True)
        if sys.argv[1] == "deadline":
            while True:  # stuck in code that never yields: the loop itself is stuck
                pass
        if sys.argv[1] == "waiting":
            await asyncio.create_task(close_the_bots(), name="stop-bots")
        await asyncio.Event().wait()  # stuck waiting for something that never comes

    asyncio.run(main())
    """
)


def stuck(mode: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", STUCK_STOP, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "stopping\n"
    return process


def ended(process: subprocess.Popen[str], timeout: float) -> tuple[int, str]:
    """The stuck process's exit code and what it said, once it ended by itself."""
    try:
        code = process.wait(timeout=timeout)
    finally:
        process.kill()
    return code, process.stderr.read() if process.stderr else ""


def test_a_stop_past_its_deadline_ends_the_process() -> None:
    code, said = ended(stuck("deadline"), 30)
    assert code == 1
    assert "the stop took over 0.5s" in said


def test_a_stop_past_its_deadline_says_what_it_still_waited_for() -> None:
    code, said = ended(stuck("waiting"), 30)
    assert code == 1
    assert "the stop took over 0.5s" in said
    # The task the stop awaits, at the line where it waits, and the coroutine that waits.
    [line] = [line for line in said.splitlines() if "task stop-bots at " in line]
    assert "locks.py" in line
    assert "in wait <- <string>:" in line
    assert line.endswith("in close_the_bots")


def test_a_second_signal_ends_a_stuck_stop_at_once() -> None:
    process = stuck("signal")
    os.kill(process.pid, signal.SIGTERM)
    code, said = ended(process, 10)
    assert code == 1
    assert "stopping at once: a second signal" in said
