#!/usr/bin/env python3
"""print_numbers.py: two tasks printing numbers at once, interleaved.

The asyncio seed program, made durable: instead of two coroutines that
print and ``await asyncio.sleep``, futured runs two shell loops (exec
tasks, side by side) and this program streams each one's output as it
comes (task.output long-polls), both at once with ``asyncio.gather``:

    A 1
    B 1
    A 2
    B 2
    ...

Run with PYTHONPATH=client/python and FUTURED_SOCKET set (or the
daemon's default socket).
"""
import asyncio

import futured

COUNT = 'for i in 1 2 3 4 5; do echo "$0 $i"; sleep 0.2; done'


async def show(task):
    """Prints the task's output as it is written, then its outcome."""
    async for chunk in task.iter_output():
        print(chunk, end="", flush=True)
    await task                      # raises TaskFailed if the loop failed


async def main():
    async with futured.AsyncClient() as client:
        a = await client.submit(["sh", "-c", COUNT, "A"])
        b = await client.submit(["sh", "-c", COUNT, "B"])
        await asyncio.gather(show(a), show(b))


if __name__ == "__main__":
    asyncio.run(main())
