"""async def, await, async for, async with, async generators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator


class Lock:
    """An async context manager."""

    async def __aenter__(self) -> Lock:
        return self

    async def __aexit__(self, *exc: object) -> bool:
        return False


async def fetch(key: str) -> str:
    await asyncio.sleep(0)
    return key.upper()


async def fetch_all(keys: list[str]) -> list[str]:
    results = []
    for key in keys:
        results.append(await fetch(key))
    return results


async def stream(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


async def consume(n: int) -> int:
    total = 0
    async with Lock():
        async for value in stream(n):
            total += value
    return total
