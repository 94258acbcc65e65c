#!/usr/bin/env bash
# Exhaustion (issue #11):
# - with `ulimit -n 64`, clients beyond what the descriptors allow make
#   accepting pause (logged once) with the CPU near idle, the waiting
#   clients stay in the backlog, and accepting resumes as soon as
#   connections close: each waiting client is then answered;
# - a task writing 1 GB to stdout keeps futured's memory bounded (the
#   output is read and dropped past --max-output);
# - the wall clock set an hour forward or back while tasks wait neither
#   fires their timers early nor stalls them (libfaketime, monotonic clock
#   left alone; timerq.c used wall-clock deadlines before).
. "$(dirname "$0")/harness.sh"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# ---- 64 descriptors
new_state
( ulimit -n 64; start_daemon; echo "$DPID" >"$T/pid64" ) || fail "start with ulimit -n 64"
DPID=$(cat "$T/pid64")
SESSIONS="$SESSIONS $DPID"
expect_eq "$(awk '/^Max open files/ { print $4 }' "/proc/$DPID/limits")" 64 "futured's descriptor limit"
"$PYTHON" - "$SOCK" "$DPID" "$STATE/daemon.log" <<'PY' || fail "descriptor exhaustion: see above"
import os, socket, sys, time
path, pid, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def ticks():
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return int(v[11]) + int(v[12])
req = b'POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 47\r\n\r\n{"jsonrpc":"2.0","id":5,"method":"daemon.info"}'
held = []
for i in range(80):                  # more than 64 descriptors allow
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)                  # the backlog takes what accept cannot
    held.append(s)
deadline = time.time() + 10
while "pausing until a connection closes" not in open(log).read():
    if time.time() > deadline:
        sys.exit("accepting did not pause with 80 connections and 64 descriptors")
    time.sleep(0.1)
waiting = held[-1]                   # surely not accepted: still in the backlog
waiting.sendall(req)
t0, c0 = time.time(), ticks()
time.sleep(2)
cpu = (ticks() - c0) / os.sysconf("SC_CLK_TCK")
wall = time.time() - t0
if cpu > 0.2 * wall:
    sys.exit("futured used %.2f s of CPU in %.2f s while out of descriptors" % (cpu, wall))
for s in held[:-1]:
    s.close()
waiting.settimeout(20)
data = b""
while b'"id":5' not in data:
    d = waiting.recv(65536)
    if not d:
        break
    data += d
if b'"id":5' not in data:
    sys.exit("the client that waited in the backlog was not answered: %r" % data[:200])
print("# out of descriptors: %.3f s CPU in %.1f s" % (cpu, wall))
PY
expect_jq "$(rpc daemon.info)" '.pid > 0' "daemon.info after the descriptors came back"
expect_eq "$(grep -c 'pausing until a connection closes' "$STATE/daemon.log")" 1 "pause logged once"
kill -TERM "$DPID"
poll_until 20 eval '! alive '"$DPID" || fail "futured (ulimit -n 64) did not stop"
DPID=""

# ---- 1 GB on stdout
new_state
start_daemon
hwm0=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status")
id=$(submit '{"kind":"exec","shell":"head -c 1000000000 /dev/zero"}')
r=$(CURL_MAX=130 rpc task.result "{\"id\":$id,\"timeout\":120}")
expect_jq "$r" '.exit_code == 0 and .stdout_truncated == true and (.stdout | length) == 1048576' "1 GB on stdout, 1 MiB kept"
hwm1=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status")
grow=65536
grep -q libasan "/proc/$DPID/maps" && grow=$((grow + 256 * 1024))	# ASan's quarantine
[ $((hwm1 - hwm0)) -lt $grow ] || fail "peak RSS grew by $((hwm1 - hwm0)) KiB for 1 GB of output"
stop_daemon

# ---- the wall clock jumps; timers keep their intervals
lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
[ -n "$lib" ] || fail "needs libfaketime (Debian faketime)"
REAL=$FUTURED
echo "+0" >"$T/clock"
# an ASan build needs its runtime first in the library list
asan_lib=$(ldd "$REAL" | awk '/libasan/ { print $3 }')
cat >"$T/futured-faketime" <<EOF
#!/bin/sh
export LD_PRELOAD="$asan_lib $lib" FAKETIME_TIMESTAMP_FILE="$T/clock" FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1
exec "$REAL" "\$@"
EOF
chmod +x "$T/futured-faketime"
new_state
FUTURED=$T/futured-faketime start_daemon
# forward: a later timer must not fire with an earlier one
a=$(submit '{"kind":"sleep","seconds":2,"result":"a"}')
b=$(submit '{"kind":"sleep","seconds":30,"result":"b"}')
sleep 0.5
echo "+1h" >"$T/clock"
expect_jq "$(CURL_MAX=30 rpc task.result "{\"id\":$a,\"timeout\":20}")" '. == "a"' "a 2 s sleep after the clock jumped an hour forward"
expect_eq "$(state "$b")" running "a 30 s sleep when the 2 s one ended, after the jump forward"
rpc task.cancel "{\"id\":$b}" >/dev/null
# back: a timer armed before the jump must not wait an hour more
c=$(submit '{"kind":"sleep","seconds":2,"result":"c"}')
sleep 0.5
t0=$(now)
echo "+0" >"$T/clock"
expect_jq "$(CURL_MAX=30 rpc task.result "{\"id\":$c,\"timeout\":20}")" '. == "c"' "a 2 s sleep after the clock went back an hour"
dt=$(since "$t0")
bc_true "$dt < 10" || fail "a 2 s sleep took ${dt}s more after the clock went back an hour"
stop_daemon
note "ok: descriptors, output and clock exhaustion handled"
