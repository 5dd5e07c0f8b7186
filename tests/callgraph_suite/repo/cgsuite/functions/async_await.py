"""A coroutine function awaited by another, run by asyncio.run."""

import asyncio


async def fetch():
    return 1


async def main():
    return await fetch()


asyncio.run(main())
