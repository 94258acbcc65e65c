#!/usr/bin/python3
"""Memory baseline: RSS per sleeping task in python3 asyncio.

usage: asyncio_mem.py COUNT
Creates COUNT tasks each awaiting asyncio.sleep(3600), lets them all start,
and prints tasks=, rss0_kb=, rss_kb= and bytes_per_task= as key=value.
"""
import asyncio
import sys


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


async def main(n):
    await asyncio.sleep(0)
    rss0 = rss_kb()
    tasks = [asyncio.create_task(asyncio.sleep(3600)) for _ in range(n)]
    await asyncio.sleep(0)  # every task has started and armed its timer
    rss = rss_kb()
    print("tasks=%d rss0_kb=%d rss_kb=%d bytes_per_task=%.1f"
          % (n, rss0, rss, (rss - rss0) * 1024.0 / n))
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


asyncio.run(main(int(sys.argv[1])))
