#!/usr/bin/env python3
"""never_retrieved.py: a task raises and nobody retrieves its exception.

The asyncio seed program: a task raises, nothing awaits it, and when the
task is destroyed asyncio logs "Task exception was never retrieved".
futured keeps track the same way: a failed task records whether a client
was handed its exception (task.result or task.exception; task.get and
task.wait do not count).  Until then ``daemon.info`` counts it as
``unretrieved`` and ``task.list(unretrieved=True)`` lists it; when the
daemon deletes it after ``--retention``, its log says

    warn: Task exception was never retrieved: task 7 (exec): ProcessError: exited with status 1

When the daemon's retention is short (a minute or less), this program
waits for that deletion; with the default (7 days) it just says what will
happen.
"""
import sys
import time

import futured


def main():
    with futured.Client() as client:
        task = client.submit([sys.executable, "-c",
                              "raise Exception('not consumed')"])
        task.wait()                     # finished, exception not retrieved
        print("task %d %s; its exception was never retrieved"
              % (task.id, task.state))
        info = client.info()
        listed = [t["id"] for t in client.list(unretrieved=True)]
        print("daemon.info unretrieved: %d; task.list unretrieved: %s"
              % (info["unretrieved"], listed))
        retention = info["limits"]["retention"]
        if retention > 60:
            print("futured logs 'Task exception was never retrieved' when it "
                  "deletes the task, %g s after it finished" % retention)
            return
        # Only task.get (which retrieves nothing) until the task is gone.
        deadline = time.monotonic() + retention + 60
        while time.monotonic() < deadline:
            try:
                task.get()
            except futured.NoSuchTask:
                print("task %d deleted after %g s: futured logged 'Task "
                      "exception was never retrieved'" % (task.id, retention))
                return
            time.sleep(0.2)
        sys.exit("task %d was not deleted in time" % task.id)


if __name__ == "__main__":
    main()
