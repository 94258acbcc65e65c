#!/usr/bin/env bash
# The examples of issue #16, run against a real futured as a user would:
# examples/approval.sh (a deploy after a future that `futurectl resolve`
# completes, or `futurectl reject` refuses) and examples/fanout.sh (a
# group of parts, a summary after the group reading its result).
. "$(dirname "$0")/harness.sh"

start_daemon --jobs 4
export FUTURECTL FUTURED_SOCKET=$SOCK
EX=$FUTURED_SRC/examples

# ---- approval: approved by the script itself
out=$(timeout "$(scaled 60)" sh "$EX/approval.sh" --approve 2>&1) || fail "approval.sh --approve: $out"
grep -q '^approved by: .*"approved_by": *"ci"' <<<"$out" || fail "approval.sh: no approval shown: $out"
grep -q 'deploying build 42' <<<"$out" || fail "approval.sh: the deploy did not run: $out"

# ---- approval: left waiting, then approved or refused from outside
out=$(sh "$EX/approval.sh" 2>&1) || fail "approval.sh: $out"
ok=$(sed -n 's/^approval: task \([0-9]*\); deploy: task \([0-9]*\).*/\1/p' <<<"$out")
deploy=$(sed -n 's/^approval: task \([0-9]*\); deploy: task \([0-9]*\).*/\2/p' <<<"$out")
[ -n "$ok" ] && [ -n "$deploy" ] || fail "approval.sh printed no ids: $out"
grep -q "approve:  .* resolve $ok " <<<"$out" || fail "approval.sh does not say how to approve: $out"
expect_eq "$(state "$deploy")" pending "the deploy before the approval"
c resolve "$ok" '{"approved_by":"ana"}'
want_rc 0 "futurectl resolve, as approval.sh says"
wait_done "$deploy"
expect_jq "$(rpc task.result "{\"id\":$deploy}")" '.stdout == "deploying build 42\n"' "the deploy after the approval"
out=$(sh "$EX/approval.sh" 2>&1) || fail "approval.sh: $out"
ok=$(sed -n 's/^approval: task \([0-9]*\); deploy: task \([0-9]*\).*/\1/p' <<<"$out")
deploy=$(sed -n 's/^approval: task \([0-9]*\); deploy: task \([0-9]*\).*/\2/p' <<<"$out")
c reject "$ok" Refused "not today"
want_rc 0 "futurectl reject"
wait_done "$deploy"
expect_jq "$(rpc task.get "{\"id\":$deploy}")" '.state == "failed" and .exception.type == "DependencyFailed" and .attempt == 0' "a refused deploy never runs"

# ---- fan-out, fan-in
out=$(timeout "$(scaled 60)" sh "$EX/fanout.sh" 5 2>&1) || fail "fanout.sh 5: $out"
expect_eq "$(tail -n 1 <<<"$out")" "part1.o part2.o part3.o part4.o part5.o -> app" "fanout.sh's summary"
group=$(sed -n 's/^group \([0-9]*\), summary.*/\1/p' <<<"$out")
expect_jq "$(rpc task.result "{\"id\":$group}")" 'length == 5 and all(.[]; .state == "succeeded")' "the group of parts"
expect_jq "$(rpc task.list "{\"parent\":$group}")" '(.tasks | length) == 5' "the parts are the group's children"
out=$(sh "$EX/fanout.sh" x 2>&1) && fail "fanout.sh x succeeded: $out"
stop_daemon
