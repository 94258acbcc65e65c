#!/usr/bin/python3
"""http baseline: fetch COUNT pages with python3 asyncio + aiohttp.

usage: aiohttp_fetch.py URL COUNT [LIMIT]
The usual asyncio program: one ClientSession (its connector keeps at most
LIMIT connections, aiohttp's default 100), asyncio.gather over one
coroutine per page, each reading the whole body.  Prints pages=, failed=,
elapsed= and rate= (pages/s, interpreter start excluded).
"""
import asyncio
import sys
import time

import aiohttp


async def fetch(session, url):
    async with session.get(url) as resp:
        await resp.read()
        return resp.status


async def main(url, n, limit):
    conn = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=conn) as session:
        t0 = time.perf_counter()
        statuses = await asyncio.gather(*(fetch(session, url)
                                          for _ in range(n)),
                                        return_exceptions=True)
        el = time.perf_counter() - t0
    failed = sum(1 for s in statuses if s != 200)
    print("pages=%d failed=%d elapsed=%.6f rate=%.1f"
          % (n, failed, el, n / el))


asyncio.run(main(sys.argv[1], int(sys.argv[2]),
                 int(sys.argv[3]) if len(sys.argv) > 3 else 100))
