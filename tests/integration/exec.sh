#!/usr/bin/env bash
# The exec kind (issue #2): argv and shell, env, cwd, stdin (also larger than
# a pipe buffer), capture text and json (invalid JSON -> ResultDecodeError),
# max_output truncation flags with the child still draining, non-UTF-8 output
# made valid, exit codes and signals -> ProcessError with stderr tail,
# SpawnError for a missing program or a bad cwd, the child in its own process
# group with fd 3 open as FUTURED_YIELD_FD=3 and no daemon fd leaked, a
# bare program looked up along the task's PATH, and the open files limit
# futured was started with given back to its tasks.  (Issue #11: the tasks'
# timeouts, which only bound them, and the bound on a duration are scaled
# by FUTURED_TIME_SCALE.)
. "$(dirname "$0")/harness.sh"
start_daemon --jobs 4

# run PARAMS -> the finished task object
run() {
	local id
	id=$(submit "$1")
	wait_done "$id" 20
	rpc task.get "{\"id\":$id}"
}
# ok PARAMS -> the result of a task that must succeed
ok() {
	local t
	t=$(run "$1")
	[ "$(jq -r .state <<<"$t")" = succeeded ] || fail "task $1 did not succeed: $(head -c 600 <<<"$t")"
	jq -c .result <<<"$t"
}
# bad PARAMS -> the exception of a task that must fail
bad() {
	local t
	t=$(run "$1")
	[ "$(jq -r .state <<<"$t")" = failed ] || fail "task $1 did not fail: $(head -c 600 <<<"$t")"
	jq -c .exception <<<"$t"
}

# argv, passed as is (no shell)
r=$(ok '{"kind":"exec","argv":["printf","%s|","a b","$HOME;*"]}')
expect_jq "$r" '.exit_code == 0 and .stdout == "a b|$HOME;*|" and .stderr == ""' "argv result"
expect_jq "$r" '.stdout_truncated == false and .stderr_truncated == false and (.duration | type) == "number" and .duration >= 0' "result fields"
expect_jq "$r" '(keys - ["exit_code","stdout","stderr","stdout_truncated","stderr_truncated","duration"]) == [] and (keys | length) == 6' "result has exactly the documented fields"

# shell
expect_jq "$(ok '{"kind":"exec","shell":"echo $((6*7)) | tr 4 x; echo e >&2"}')" '.stdout == "x2\n" and .stderr == "e\n"' "shell"

# env (and the yield fd: fd 3 open, FUTURED_YIELD_FD=3)
expect_jq "$(ok '{"kind":"exec","argv":["sh","-c","printf \"%s|%s\" \"$FOO\" \"$BAR\""],"env":{"FOO":"bar baz","BAR":"ü€"}}')" '.stdout == "bar baz|ü€"' "env"
expect_jq "$(ok '{"kind":"exec","shell":"printf %s \"$FUTURED_YIELD_FD\"; echo 1 >&3 && printf ok"}')" '.stdout == "3ok"' "FUTURED_YIELD_FD=3 and fd 3 writable"
# the child sees 0, 1, 2, 3 and nothing of the daemon's (db, sockets, listener)
# (ls lists its own descriptors: the one it reads /proc/self/fd through is not counted)
r=$(ok '{"kind":"exec","argv":["ls","-l","/proc/self/fd"]}')
expect_jq "$r" '[.stdout | split("\n")[] | capture("(?<fd>[0-9]+) -> (?<to>.*)$")?
  | select(.to | test("^/proc/[0-9]+/fd$") | not) | .fd | tonumber] | sort == [0,1,2,3]' "child fds are 0-3 only (leaked daemon descriptors?)"
# own process group
r=$(ok '{"kind":"exec","shell":"echo $$ $(ps -o pgid= -p $$)"}')
expect_jq "$r" '.stdout | rtrimstr("\n") | split(" ") | map(select(length > 0) | tonumber) | length == 2 and .[0] == .[1]' "child leads its own process group"

# cwd
mkdir -p "$T/work dir"
wd=$(cd "$T/work dir" && pwd -P)
expect_jq "$(ok "{\"kind\":\"exec\",\"argv\":[\"sh\",\"-c\",\"pwd -P\"],\"cwd\":$(jq -Rn --arg d "$wd" '$d')}")" ".stdout == $(jq -Rn --arg d "$wd" '$d + "\n"')" "cwd"

# stdin: given, absent (must read EOF at once), larger than a pipe buffer
expect_jq "$(ok '{"kind":"exec","argv":["cat"],"stdin":"hello\nwörld\n"}')" '.stdout == "hello\nwörld\n"' "stdin"
expect_jq "$(ok "{\"kind\":\"exec\",\"argv\":[\"cat\"],\"timeout\":$(scaled 10)}")" '.stdout == ""' "no stdin: EOF"
python3 -c 'import json; print(json.dumps({"jsonrpc":"2.0","id":1,"method":"task.submit","params":{"kind":"exec","shell":"wc -c; head -c 200000 /dev/zero | tr \"\\\\0\" b","stdin":"a" * 300000}}))' >"$T/big.json"
id=$(curl -s --max-time "$(scaled 30)" --unix-socket "$SOCK" -H 'Expect:' --data-binary @"$T/big.json" http://localhost/rpc | jq -r .result.id)
[[ $id =~ ^[0-9]+$ ]] || fail "submit with 300 KB stdin"
wait_done "$id" 20
r=$(rpc task.result "{\"id\":$id}")
expect_jq "$r" '(.stdout | length) == 200007 and (.stdout | startswith("300000\n")) and .stdout_truncated == false' "300 KB stdin in, 200 KB stdout out"

# capture json
expect_jq "$(ok '{"kind":"exec","shell":"echo \"{\\\"a\\\":[1,2],\\\"b\\\":null}\"","capture":"json"}')" '. == {"a":[1,2],"b":null}' "capture json object"
expect_jq "$(ok '{"kind":"exec","argv":["echo","42"],"capture":"json"}')" '. == 42' "capture json scalar"
expect_jq "$(ok '{"kind":"exec","argv":["echo","hi"],"capture":"text"}')" '.stdout == "hi\n"' "capture text"
e=$(bad '{"kind":"exec","argv":["echo","not json"],"capture":"json"}')
expect_jq "$e" '.type == "ResultDecodeError" and (.message | type) == "string"' "invalid JSON stdout"
e=$(bad '{"kind":"exec","shell":"echo {}; exit 3","capture":"json"}')
expect_jq "$e" '.type == "ProcessError" and .exit_code == 3' "capture json, non-zero exit"

# max_output: flags, exact limit, the child runs to completion while output is discarded
r=$(ok '{"kind":"exec","shell":"head -c 10000 /dev/zero | tr \"\\0\" a","max_output":100}')
expect_jq "$r" '.stdout == ("a" * 100) and .stdout_truncated == true and .stderr_truncated == false and .exit_code == 0' "stdout truncated"
r=$(ok '{"kind":"exec","shell":"head -c 10000 /dev/zero | tr \"\\0\" e >&2","max_output":100}')
expect_jq "$r" '(.stderr | length) == 100 and .stderr_truncated == true and .stdout_truncated == false' "stderr truncated"
r=$(ok '{"kind":"exec","shell":"printf %0100d 0","max_output":100}')
expect_jq "$r" '(.stdout | length) == 100 and .stdout_truncated == false' "output of exactly max_output is not truncated"
r=$(ok "{\"kind\":\"exec\",\"shell\":\"head -c 3000000 /dev/zero; echo done >&2\",\"max_output\":1000,\"timeout\":$(scaled 15)}")
expect_jq "$r" '(.stdout | length) == 1000 and .stdout_truncated == true and .stderr == "done\n" and .exit_code == 0' "3 MB through a 1000-byte cap"
r=$(ok '{"kind":"exec","argv":["echo","x"],"max_output":0}')
expect_jq "$r" '.stdout == "" and .stdout_truncated == true' "max_output 0"

# output that is not UTF-8 is made valid; valid UTF-8 is kept
expect_jq "$(ok '{"kind":"exec","argv":["printf","\\377\\376abc\\n"]}')" '.stdout == "\ufffd\ufffdabc\n"' "invalid UTF-8 replaced"
expect_jq "$(ok '{"kind":"exec","argv":["printf","é€😀"]}')" '.stdout == "é€😀"' "valid UTF-8 kept"
expect_jq "$(ok '{"kind":"exec","argv":["printf","\\355\\240\\200|\\300\\257"]}')" '.stdout == "\ufffd\ufffd\ufffd|\ufffd\ufffd"' "surrogate and overlong bytes replaced"

# non-zero exit -> ProcessError with exit_code, stdout, stderr and a stderr tail
e=$(bad '{"kind":"exec","shell":"echo out; echo err >&2; exit 7"}')
expect_jq "$e" '.type == "ProcessError" and .exit_code == 7 and (.message | type) == "string" and (.message | length) > 0' "ProcessError exit_code"
expect_jq "$e" '.stdout == "out\n" and .stderr == "err\n" and (.stderr_tail | contains("err"))' "ProcessError output"
expect_jq "$e" '(.signal // null) == null' "exit is not a signal"
e=$(bad '{"kind":"exec","shell":"seq 1 5000 | sed \"s/^/line /\" >&2; exit 1"}')
expect_jq "$e" '(.stderr_tail | contains("line 5000")) and (.stderr_tail | length) < 16384 and (.stderr_tail | length) < (.stderr | length)' "stderr_tail is the tail"
# killed by a signal -> ProcessError with signal
e=$(bad '{"kind":"exec","shell":"kill -TERM $$"}')
expect_jq "$e" '.type == "ProcessError" and (.signal == 15 or .signal == "SIGTERM") and (.exit_code // null) == null' "killed by SIGTERM"
e=$(bad '{"kind":"exec","shell":"echo partial; kill -KILL $$"}')
expect_jq "$e" '.type == "ProcessError" and (.signal == 9 or .signal == "SIGKILL") and .stdout == "partial\n"' "killed by SIGKILL"
# exit 0 with stderr output is a success
expect_jq "$(ok '{"kind":"exec","shell":"echo warn >&2"}')" '.exit_code == 0 and .stderr == "warn\n"' "stderr does not fail a task"

# SpawnError: missing program (path and PATH lookup), bad cwd, not executable
printf 'echo hi\n' >"$T/noexec.sh"
chmod 0644 "$T/noexec.sh"
for p in '{"kind":"exec","argv":["/no/such/program"]}' \
    "{\"kind\":\"exec\",\"argv\":[\"no-such-program-$UNIQ\"]}" \
    '{"kind":"exec","argv":["true"],"cwd":"/no/such/dir"}' \
    "{\"kind\":\"exec\",\"argv\":[\"$T/noexec.sh\"]}"; do
	e=$(bad "$p")
	expect_jq "$e" '.type == "SpawnError" and (.message | type) == "string" and (.message | length) > 0' "SpawnError for $p"
done

# a bare program name is looked up along the PATH of the task's env (not
# futured's); relative entries count from the task's cwd; a PATH without
# it, or with only a non-executable file of that name, is a SpawnError
mkdir -p "$T/bin" "$T/nx"
printf '#!/bin/sh\necho "found $0"\n' >"$T/bin/tool-$UNIQ"
chmod 0755 "$T/bin/tool-$UNIQ"
printf '#!/bin/sh\necho no\n' >"$T/nx/tool-$UNIQ"
chmod 0644 "$T/nx/tool-$UNIQ"
# tool PATH [CWD]: a task running tool-$UNIQ with that PATH (and cwd)
tool() { echo "{\"kind\":\"exec\",\"argv\":[\"tool-$UNIQ\"],${2:+\"cwd\":\"$2\",}\"env\":{\"PATH\":\"$1\"}}"; }
found=".stdout == \"found $T/bin/tool-$UNIQ\\n\""
mkdir -p "$T/dirp/tool-$UNIQ"
expect_jq "$(ok "$(tool "/no/such:$T/bin:/usr/bin:/bin")")" "$found" "program found along the task's PATH"
expect_jq "$(ok "$(tool nx:bin "$T")")" "$found" "relative PATH entries from the task's cwd, non-executable skipped"
expect_jq "$(ok "$(tool "$T/dirp:$T/bin")")" "$found" "a directory of that name on the task's PATH is skipped"
expect_jq "$(bad "$(tool /usr/bin:/bin)")" '.type == "SpawnError" and (.message | test("No such file"))' "not on the task's PATH"
expect_jq "$(bad "$(tool "$T/nx")")" '.type == "SpawnError" and (.message | test("Permission denied"))' "only a non-executable file on the task's PATH"

# argv passes through byte for byte; NUL in stdin and output survives
expect_jq "$(ok '{"kind":"exec","argv":["printf","%s|","line1\nline2 ü","","  sp  ","*","$(x)"]}')" '.stdout == "line1\nline2 ü||  sp  |*|$(x)|"' "argv exact"
expect_jq "$(ok '{"kind":"exec","argv":["cat"],"stdin":"a\u0000b"}')" '.stdout == "a\u0000b"' "NUL through stdin and stdout"
expect_jq "$(ok '{"kind":"exec","argv":["printf","x\\0y"]}')" '.stdout == "x\u0000y" and (.stdout | length) == 3' "NUL in output"
# output is capped even without max_output (memory stays bounded)
r=$(ok "{\"kind\":\"exec\",\"shell\":\"head -c 20000000 /dev/zero | tr \\\"\\\\0\\\" a\",\"timeout\":$(scaled 30)}")
expect_jq "$r" '.stdout_truncated == true and (.stdout | length) <= 16777216 and (.stdout | length) > 0' "20 MB of output without max_output"

# duration is the run time
r=$(ok '{"kind":"exec","argv":["sleep","0.3"]}')
expect_jq "$r" ".duration >= 0.25 and .duration < $(scaled 5)" "duration of sleep 0.3"

alive "$DPID" || fail "futured died"
stop_daemon
expect_eq "$DAEMON_RC" 0 "exit status after SIGTERM"

# futured raises its own open files limit to the hard limit (clients,
# pipes, connections), while its tasks get the limit it was started with
hard=$(ulimit -H -n)
soft=$(ulimit -S -n)
if [ "$hard" != unlimited ] && [ "$hard" -gt 256 ]; then
	ulimit -S -n 256
	start_daemon --jobs 1
	ulimit -S -n "$soft"
	got=$(awk '/^Max open files/ { print $4 }' "/proc/$DPID/limits")
	expect_eq "$got" "$hard" "futured's own soft limit"
	expect_jq "$(ok '{"kind":"exec","shell":"ulimit -S -n"}')" '.stdout == "256\n"' "a task's open files limit"
	got=$(awk '/^Max open files/ { print $4 }' "/proc/$DPID/limits")
	expect_eq "$got" "$hard" "futured's soft limit after spawning"
	stop_daemon
else
	fail "the hard open files limit ($hard) leaves nothing to raise"
fi
note "ok: exec kind"
