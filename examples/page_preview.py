#!/usr/bin/env python3
"""page_preview.py URL...: fetch pages through futured, print the first
lines of each.

The asyncio seed program (aiohttp fetches gathered) on the client library:
each URL becomes an http task, fetched by the daemon from its one thread
while ``asyncio.gather`` awaits them all; then each page's first 3
non-empty lines are printed, in the order given:

    http://127.0.0.1:8080/page1.html [200]
      <!-- page 1 -->
      line one of 1
      line two of 1
    http://127.0.0.1:8080/missing [HttpError: HTTP 404 from ...]

Exit status: 0 when every fetch succeeded, 1 when one failed.
(examples/preview.py does the same with the standard library alone.)
"""
import asyncio
import base64
import sys

import futured

LINES = 3


async def preview(client, url):
    """The preview of one URL, and whether its fetch succeeded."""
    task = await client.submit(url=url, timeout=30)
    try:
        page = await task
    except futured.TaskFailed as e:
        return "%s [%s: %s]" % (url, e.type, e.exception.message), False
    where = url if page["url"] == url else "%s -> %s" % (url, page["url"])
    text = ["%s [%d]" % (where, page["status"])]
    if page["body_encoding"] == "base64":
        text.append("  (%d bytes of binary)"
                    % len(base64.b64decode(page["body"])))
    else:
        lines = [ln.strip() for ln in page["body"].splitlines()]
        text += ["  " + ln for ln in lines if ln][:LINES]
    return "\n".join(text), True


async def main(urls):
    async with futured.AsyncClient() as client:
        previews = await asyncio.gather(*(preview(client, u) for u in urls))
    for text, _ in previews:
        print(text)
    return 0 if all(ok for _, ok in previews) else 1


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit("usage: page_preview.py URL...")
    sys.exit(asyncio.run(main(sys.argv[1:])))
