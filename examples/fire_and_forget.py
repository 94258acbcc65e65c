#!/usr/bin/env python3
"""fire_and_forget.py [MESSAGE]: start work from plain synchronous code
and never wait for it.

asyncio's fire-and-forget (``asyncio.ensure_future`` without awaiting)
needs a running loop and dies with the program.  With futured, blocking
code sends task.submit as a JSON-RPC notification: no id, no answer,
nothing to wait on; the task is stored and runs even after this program
exits.  (A notification the daemon refuses is only logged and counted in
daemon.info's refused_notifications.)

Here the work is tagged with a label so that, only to show it ran, this
program looks it up afterwards; a real program would just go on.
"""
import sys
import time
import uuid

import futured


def log_later(client, message, run):
    """Fire and forget: returns at once."""
    client.notify("task.submit", kind="exec",
                  argv=["sh", "-c", 'sleep 0.2; echo "logged: $1"', "sh",
                        message],
                  labels={"example": "fire_and_forget", "run": run})


def main(message):
    run = uuid.uuid4().hex[:12]
    with futured.Client() as client:
        log_later(client, message, run)
        print("fired a task labelled run=%s; not waiting for it" % run)

        # Later, anyone can find it by its label.
        for _ in range(600):
            found = list(client.list(label={"run": run}))
            if found:
                break
            time.sleep(0.05)
        else:
            sys.exit("the fired task is not listed (refused? see "
                     "daemon.info refused_notifications)")
        task = client.task(found[0]["id"])
        out = task.result(timeout=60)["stdout"].strip()
        print("task %d %s: %s" % (task.id, task.state, out))


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "hello from fire_and_forget.py")
