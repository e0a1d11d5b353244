"""CancelToken.wait(): what the cell loop awaits to learn of a cancel made from another thread (no kernel here)."""

from __future__ import annotations

import asyncio
import threading

from nbsched.notebooks.cancel import CancelToken


def test_wait_returns_when_another_thread_cancels() -> None:
    token = CancelToken()

    async def main() -> str | None:
        waiting = asyncio.ensure_future(token.wait())
        await asyncio.sleep(0)  # the waiter is registered before the other thread cancels
        threading.Thread(target=token.cancel, args=("stop it",)).start()
        await asyncio.wait_for(waiting, 30)
        return token.reason

    assert asyncio.run(main()) == "stop it"


def test_wait_returns_at_once_for_a_token_cancelled_before() -> None:
    token = CancelToken()
    token.cancel("early")
    token.cancel("later")  # the first reason is kept
    asyncio.run(asyncio.wait_for(token.wait(), 30))
    assert token.reason == "early"


def test_a_waiter_that_gives_up_is_forgotten() -> None:
    # The cell loop stops waiting after every cell; a run of many cells must not leave one waiter per cell.
    token = CancelToken()

    async def main() -> None:
        for _ in range(3):
            waiting = asyncio.ensure_future(token.wait())
            await asyncio.sleep(0)
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)

    asyncio.run(main())
    token.cancel()  # no loop left to call: nothing is waiting
    assert token._waiters == []
