#!/usr/bin/env python3
"""primes_email.py [N]: consume a prime generator while email is checked.

The asyncio seed program: an async generator of primes consumed with
``async for`` while a ``check_email`` coroutine runs meanwhile.  Here the
generator is examples/primes.sh, an exec task that yields each prime to fd
3 (futured's yield pipe), consumed with ``for p in task.stream()`` as the
items arrive; ``check_email`` is a sleep task (it costs the daemon no
process) that runs at the same time.  Prints 2, 3, 5 ... 97 (for N=100),
then what the email check found.
"""
import os
import sys

import futured

PRIMES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "primes.sh")


def main(n):
    with futured.Client() as client:
        primes = client.submit(["sh", PRIMES, str(n)])
        check_email = client.submit(seconds=0.3,
                                    result="you have 3 new messages")
        for p in primes.stream():       # raises TaskFailed at the end if
            print(p, flush=True)        # the generator failed
        print(primes.result()["stdout"].strip())
        print("email:", check_email.result())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
