#!/usr/bin/env python3
"""The crash loop of issue #11: futured killed with SIGKILL N times under
concurrent submitters, checked after every restart.

    crashloop.py FUTURED STATE_DIR ROUNDS [--seed N] [--json FILE]

Submitters run the whole time, each on its own connection: batches of
sleep tasks, keyed exec tasks (some fail their first attempt and are
retried), single sleeps.  Every submission carries a unique marker label.
After each kill -9 and restart the script checks:
  - lost: an acknowledged task is missing, or holds another marker;
  - duplicated: a marker (or a key) names more than one task;
  - changed: a task seen finished before the kill has another state,
    result or exception after it;
  - integrity: PRAGMA integrity_check of the database is "ok";
  - leftovers: a process of an attempt started before the kill is alive
    once the new futured serves;
  - overlaps: an attempt started while an earlier attempt of the same task
    was still alive (each attempt checks its predecessor's pid at start).
Exit status 0 when every count is 0 and every check passed; the figures
are printed (and written as JSON with --json).
"""
import http.client, json, os, random, signal, socket, sqlite3, subprocess
import sys, threading, time


class Unix(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


def rpc(sock, body, timeout=30):
    """The decoded answer, or None when the daemon was not there."""
    try:
        c = Unix(sock, timeout)
        c.request("POST", "/rpc", body=json.dumps(body),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return json.loads(data) if r.status == 200 and data else None
    except (OSError, http.client.HTTPException, ValueError):
        return None


def call(sock, method, params, timeout=30):
    a = rpc(sock, {"jsonrpc": "2.0", "id": 1, "method": method,
                   "params": params}, timeout)
    if a is None or "error" in a:
        return None
    return a["result"]


class Loop:
    def __init__(self, futured, state, rounds, seed):
        self.futured, self.state, self.rounds = futured, state, rounds
        self.sock = os.path.join(state, "futured.sock")
        self.work = os.path.join(state, "work")
        os.makedirs(self.work, exist_ok=True)
        self.rand = random.Random(seed)
        self.lock = threading.Lock()
        self.acked = {}      # id -> marker
        self.keys = {}       # key -> id (acknowledged)
        self.finished = {}   # id -> (state, result, exception)
        self.n = 0
        self.proc = None
        self.counts = dict(lost=0, duplicated=0, changed=0, integrity=0,
                           leftovers=0, overlaps=0, acknowledged=0,
                           restarts=0, submissions=0)
        self.problems = []

    def marker(self):
        with self.lock:
            self.n += 1
            return "m%d" % self.n

    def ack(self, tid, marker, key=None):
        with self.lock:
            if tid in self.acked and self.acked[tid] != marker:
                self.problem("duplicated", "id %d acknowledged twice (%s, %s)"
                             % (tid, self.acked[tid], marker))
            self.acked[tid] = marker
            if key is not None:
                if key in self.keys and self.keys[key] != tid:
                    self.problem("duplicated", "key %s is task %d and %d"
                                 % (key, self.keys[key], tid))
                self.keys[key] = tid

    def count(self, what, n):
        with self.lock:
            self.counts[what] += n

    def problem(self, what, text):
        self.counts[what] += 1
        self.problems.append("%s: %s" % (what, text))
        print("PROBLEM %s: %s" % (what, text), file=sys.stderr, flush=True)

    # ---- the daemon
    def start(self):
        log = open(os.path.join(self.state, "daemon.log"), "ab")
        self.proc = subprocess.Popen(
            [self.futured, "--config", "/dev/null", "--state-dir", self.state,
             "--kill-grace", "1", "--jobs", "4"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit("futured exited with %d at start" % self.proc.returncode)
            info = call(self.sock, "daemon.info", {}, timeout=2)
            if info is not None and info["pid"] == self.proc.pid:
                return
            time.sleep(0.05)
        sys.exit("futured did not answer within 90 s")

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)   # futured alone: a crash
        self.proc.wait()

    # ---- the submitters
    def task_shell(self):
        d = self.work
        return ("d=%s; id=$FUTURED_TASK_ID; "
                "if [ -f $d/p.$id ]; then p=$(cat $d/p.$id); "
                "if kill -0 $p 2>/dev/null && tr '\\0' ' ' </proc/$p/cmdline "
                "2>/dev/null | grep -q $d; then echo overlap $id >>$d/log; fi; fi; "
                "echo $$ >$d/p.$id; echo start $id $$ >>$d/log; "
                "sleep 0.$(($$ %% 4 + 1)); "
                "if [ $((id %% 3)) = 0 ] && [ ! -e $d/r.$id ]; then "
                "touch $d/r.$id; exit 1; fi; echo end $id $$ >>$d/log") % d

    def submit_batch(self):
        ms = [self.marker() for _ in range(4)]
        body = [{"jsonrpc": "2.0", "id": i, "method": "task.submit", "params": {
            "kind": "sleep", "seconds": self.rand.random() * 0.5,
            "result": {"m": m}, "labels": {"m": m}}} for i, m in enumerate(ms)]
        a = rpc(self.sock, body)
        self.count("submissions", len(ms))
        if isinstance(a, list):
            for r in a:
                if "result" in r:
                    self.ack(r["result"]["id"], ms[r["id"]])

    def submit_keyed(self):
        m = self.marker()
        key = "k-" + m
        params = {"kind": "exec", "shell": self.task_shell(), "key": key,
                  "retries": 2, "retry_backoff": 0.1, "labels": {"m": m}}
        self.count("submissions", 1)
        r = call(self.sock, "task.submit", params)
        if r is None:
            # the answer was lost: a resubmission of the key is idempotent
            with self.lock:
                self.pending_keys.append((key, m, params))
            return
        self.ack(r["id"], m, key)

    def submitter(self, kind, stop):
        while not stop.is_set():
            (self.submit_batch if kind == "batch" else self.submit_keyed)()
            # exec tasks take --jobs slots: keep their backlog short
            time.sleep(self.rand.random() * (0.05 if kind == "batch" else 0.2))

    # ---- the checks
    def all_tasks(self):
        tasks, cursor = {}, None
        while True:
            p = {"limit": 1000}
            if cursor:
                p["cursor"] = cursor
            r = call(self.sock, "task.list", p, timeout=60)
            if r is None:
                sys.exit("task.list failed")
            for t in r["tasks"]:
                tasks[t["id"]] = t
            cursor = r["next"]
            if not cursor:
                return tasks

    def check(self, log_before):
        tasks = self.all_tasks()
        markers = {}
        for t in tasks.values():
            m = t["labels"].get("m")
            markers.setdefault(m, []).append(t["id"])
        for m, ids in markers.items():
            if m is not None and len(ids) > 1:
                self.problem("duplicated", "marker %s is tasks %s" % (m, ids))
        for tid, m in self.acked.items():
            t = tasks.get(tid)
            if t is None or t["labels"].get("m") != m:
                self.problem("lost", "acknowledged task %d (%s)" % (tid, m))
        for tid, was in self.finished.items():
            t = tasks.get(tid)
            now = t and (t["state"], t.get("result"), t.get("exception"))
            if now != was:
                self.problem("changed", "task %d was %s, is %s" % (tid, was, now))
        for t in tasks.values():
            if t["state"] in ("succeeded", "failed", "cancelled"):
                self.finished.setdefault(
                    t["id"], (t["state"], t.get("result"), t.get("exception")))
        # processes of attempts started before the kill
        for line in log_before:
            w = line.split()
            if len(w) == 3 and w[0] == "start":
                pid = int(w[2])
                try:
                    cmd = open("/proc/%d/cmdline" % pid, "rb").read()
                except OSError:
                    continue
                if self.work.encode() in cmd:
                    self.problem("leftovers", "pid %d of task %s" % (pid, w[1]))

    def integrity(self):
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.state, "futured.db"), uri=True, timeout=30)
        ok = db.execute("PRAGMA integrity_check").fetchone()[0]
        db.close()
        if ok != "ok":
            self.problem("integrity", ok)

    def read_log(self):
        try:
            return open(os.path.join(self.work, "log")).read().splitlines()
        except OSError:
            return []

    def run(self):
        self.pending_keys = []
        t0 = time.time()
        self.start()
        for rnd in range(self.rounds):
            stop = threading.Event()
            threads = [threading.Thread(target=self.submitter, args=(k, stop))
                       for k in ("batch", "keyed", "keyed")]
            for t in threads:
                t.start()
            time.sleep(0.4 + self.rand.random() * 1.2)
            self.kill9()
            stop.set()
            for t in threads:
                t.join()
            log_before = self.read_log()
            self.integrity()
            self.counts["restarts"] += 1
            t1 = time.time()
            self.start()
            print("# round %d: restart took %.2f s" % (rnd + 1, time.time() - t1),
                  flush=True)
            # keys whose answer was lost: resubmitting runs them once
            with self.lock:
                again, self.pending_keys = self.pending_keys, []
            for key, m, params in again:
                r = call(self.sock, "task.submit", params)
                if r is not None:
                    self.ack(r["id"], m, key)
            self.check(log_before)
        self.check([])
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.integrity()
        self.counts["overlaps"] = sum(1 for l in self.read_log()
                                      if l.startswith("overlap"))
        self.counts["acknowledged"] = len(self.acked)
        self.counts["seconds"] = round(time.time() - t0, 1)
        return self.counts


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    seed = int(time.time())
    out = None
    args = sys.argv[4:]
    while args:
        if args[0] == "--seed":
            seed = int(args[1])
        elif args[0] == "--json":
            out = args[1]
        args = args[2:]
    loop = Loop(sys.argv[1], sys.argv[2], int(sys.argv[3]), seed)
    try:
        counts = loop.run()
    finally:
        if loop.proc is not None and loop.proc.poll() is None:
            loop.proc.kill()
            loop.proc.wait()
    counts["seed"] = seed
    print("crash loop: %(restarts)d kill -9 restarts in %(seconds)s s, "
          "%(acknowledged)d tasks acknowledged of %(submissions)d submitted: "
          "%(lost)d lost, %(duplicated)d duplicated, %(changed)d results changed, "
          "%(integrity)d integrity errors, %(leftovers)d processes left over, "
          "%(overlaps)d overlapping attempts (seed %(seed)d)" % counts)
    if out:
        json.dump(counts, open(out, "w"), indent=1)
    bad = sum(counts[k] for k in ("lost", "duplicated", "changed", "integrity",
                                  "leftovers", "overlaps"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
