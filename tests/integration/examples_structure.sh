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

# ---- check_email (issue #17): the seed's loop as a schedule, primes alongside
mail=$T/mail
mkdir -p "$mail/new"
for m in a b c; do echo "from $m" >"$mail/new/$m"; done
out=$(sh "$EX/check_email.sh" install 1 "$mail" 2>&1) || fail "check_email.sh install: $out"
primes=$(sed -n 's/^primes: task \([0-9]*\).*/\1/p' <<<"$out")
[ -n "$primes" ] || fail "check_email.sh started no primes: $out"
poll_until 30 eval '[ -z "$(ls "$mail/new")" ]' || fail "the schedule never read the mail"
got=$(rpc task.list '{"label":{"schedule":"check-email"},"limit":1000}' | jq -r '[.tasks[] | select(.state == "succeeded") | .result.stdout] | map(select(. == "3 new messages\n")) | length')
expect_eq "$got" 1 "one firing read the three messages"
echo "from d" >"$mail/new/d"
poll_until 30 eval '[ -z "$(ls "$mail/new")" ]' || fail "the schedule did not go on firing"
wait_done "$primes" 60
expect_jq "$(rpc task.result "{\"id\":$primes}")" '.stdout == "303 primes up to 2000\n"' "the primes ran alongside"
c schedule ls
want_rc 0 "futurectl schedule ls"
grep -q '^check-email ' <<<"$out" || fail "schedule ls does not list check-email: $out"
out=$(sh "$EX/check_email.sh" remove 2>&1) || fail "check_email.sh remove: $out"
expect_jq "$(rpc schedule.get '{"name":"check-email"}')" '.error.code == 13' "check_email.sh remove"
stop_daemon
