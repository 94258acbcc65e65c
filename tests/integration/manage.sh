#!/usr/bin/env bash
# Managing tasks and queues (issue #14): task.retry makes a new task
# labelled futured.retry_of and leaves the old one as it was; task.delete
# deletes finished tasks by id or filter, never an unfinished one without
# cancel; clean by age and state; 2,500 deleted in rounds; queue.delete
# refuses a queue with unfinished tasks; queues with no settings and no
# task are freed (1,100 names used once, then a new one); queue.set
# create: false (futurectl queue pause without --create) refuses a typo;
# a deleted queue stays deleted across a restart.  Runs on PostgreSQL too
# (tests/pg/manage.pg).
. "$(dirname "$0")/harness.sh"
[ -x "$FUTURECTL" ] || fail "no $FUTURECTL"
start_daemon --jobs 4
gone() { [ "$(call task.get "{\"id\":$1}" | jq .error.code)" = 4 ]; }

# ---- retry: a new task of the same spec; the old one unchanged
f=$(submit '{"kind":"exec","shell":"exit 3","queue":"rq","priority":5,"labels":{"team":"x"},"timeout":30,"retries":1,"retry_backoff":0.1}')
wait_done "$f" 30
before=$(call task.get "{\"id\":$f}" | jq -c .result)
c retry "$f"
want_rc 0 "retry of a failed task"
n=$out
[[ $n =~ ^[0-9]+$ && $n != "$f" ]] || fail "retry printed '$n', want a new id"
expect_jq "$(call task.get "{\"id\":$n}")" ".result.spec == {\"kind\":\"exec\",\"shell\":\"exit 3\"} and .result.queue == \"rq\" and .result.priority == 5 and .result.labels == {\"team\":\"x\",\"futured.retry_of\":\"$f\"} and .result.max_retries == 1 and .result.timeout == 30" "the retry's task"
wait_done "$n" 30
expect_eq "$(call task.get "{\"id\":$f}" | jq -c .result)" "$before" "the retried task is as it was"
expect_jq "$(call task.list '{"label":{"futured.retry_of":"'"$f"'"}}')" "[.result.tasks[].id] == [$n]" "retries of a task, by label"
long=$(ctl submit --sleep 3600)
# On PostgreSQL a submitted task is pending until a claim takes it.
wait_state "$long" running
c retry "$long"
want_rc 4 "retry of a running task"
[[ $err == *"task $long is running: only a finished task is retried"* ]] || fail "retry of a running task: $err"
c retry 999999
want_rc 4 "retry of no task"
expect_jq "$(call task.retry '{"id":"x"}')" '.error.code == -32602 and .error.data.field == "id"' "task.retry with a bad id"

# ---- delete by ids: finished ones; unfinished kept unless --cancel
d1=$(submit '{"kind":"sleep","seconds":0,"result":"d1"}')
items=$(submit '{"kind":"exec","shell":"echo 1 >&3; echo out"}')
wait_done "$d1" 30
wait_done "$items" 30
c delete "$d1" "$items" "$long" 999998
want_rc 4 "delete with an unfinished and a missing id"
expect_eq "$out" "deleted 2 tasks" "delete's count"
[[ $err == *"task $long is unfinished: kept (--cancel cancels and deletes it)"* ]] || fail "delete: unfinished not told: $err"
[[ $err == *"no task 999998"* ]] || fail "delete: missing not told: $err"
gone "$d1" || fail "deleted task $d1 still there"
gone "$items" || fail "deleted task $items still there"
expect_jq "$(call task.stream "{\"id\":$items}")" '.error.code == 4' "a deleted task's stream"
expect_jq "$(call task.output "{\"id\":$items}")" '.error.code == 4' "a deleted task's output"
expect_eq "$(state "$long")" running "an unfinished task is never deleted without --cancel"
c delete --cancel "$long"
want_rc 0 "delete --cancel of a running task"
expect_eq "$out" "deleted 1 task" "delete --cancel's count"
gone "$long" || fail "delete --cancel left task $long"
expect_jq "$(call task.delete '{"ids":[1],"queue":"x"}')" '.error.code == -32602 and .error.data.field == "ids"' "ids with a filter"
expect_jq "$(call task.delete '{"queue":"x","cancel":true}')" '.error.code == -32602 and .error.data.field == "cancel"' "cancel with a filter"
expect_jq "$(call task.delete '{"state":"running"}')" '.error.code == -32602 and .error.data.field == "state"' "a filter of unfinished tasks"
expect_jq "$(call task.delete '{"older_than":0}')" '.error.code == -32602 and .error.data.field == "older_than"' "older_than 0"
expect_jq "$(call task.delete '{}')" '.result == {"deleted":0,"unfinished":[],"missing":[]}' "task.delete {} deletes nothing"

# ---- delete by filter: finished tasks of a queue, state or label
ok1=$(submit '{"kind":"sleep","seconds":0,"queue":"fq"}')
bad=$(submit '{"kind":"exec","shell":"exit 1","queue":"fq","labels":{"k":"v"}}')
run=$(submit '{"kind":"sleep","seconds":3600,"queue":"fq"}')
keep=$(submit '{"kind":"sleep","seconds":0,"queue":"other"}')
wait_done "$ok1" 30; wait_done "$bad" 30; wait_done "$keep" 30
c delete --queue fq --state failed --label k=v
want_rc 0 "delete by queue, state and label"
expect_eq "$out" "deleted 1 task" "the failed one only"
gone "$bad" || fail "the failed task of fq is still there"
expect_eq "$(state "$ok1")/$(state "$run")/$(state "$keep")" "succeeded/running/succeeded" "others untouched"
c delete --queue fq
expect_eq "$out" "deleted 1 task" "delete --queue: the finished one"
expect_eq "$(state "$run")" running "delete --queue kept the running task"
c delete --queue fq --cancel
want_rc 0 "delete --queue --cancel"
expect_eq "$out" "deleted 1 task" "delete --queue --cancel: the running one"
gone "$run" || fail "delete --queue --cancel left task $run"
expect_eq "$(state "$keep")" succeeded "another queue's task untouched"
c delete 5 --queue fq
want_rc 2 "ids and a filter"
c delete --state running
want_rc 2 "delete --state running"

# ---- clean by age and state
c clean --older-than 1h
want_rc 0 "clean --older-than 1h"
expect_eq "$out" "deleted 0 tasks" "nothing finished an hour ago"
expect_eq "$(state "$keep")" succeeded "a fresh task survives clean --older-than"
c clean --state cancelled
expect_eq "$(state "$keep")" succeeded "clean --state cancelled keeps a succeeded one"
c clean --older-than soon
want_rc 2 "clean --older-than with a bad age"
c clean --cancel
want_rc 2 "clean takes no --cancel"
c clean
want_rc 0 "clean"
gone "$keep" || fail "clean left finished task $keep"
gone "$n" || fail "clean left the retry $n"

# ---- 2,500 finished tasks deleted in rounds of 1,000
"$PYTHON" -c 'import json; print(json.dumps([{"jsonrpc":"2.0","id":i,"method":"task.submit","params":{"kind":"sleep","seconds":0,"queue":"bulk"}} for i in range(2500)]))' >"$T/bulk.json"
post "@$T/bulk.json" >"$T/bulk.out"
last=$(jq '[.[].result.id] | max' "$T/bulk.out")
wait_done "$last" 60
poll_until 60 eval '[ "$(rpc queue.list | jq "[.queues[] | select(.name == \"bulk\")][0].running // 0")" = 0 ]' || true
c delete --queue bulk
want_rc 0 "delete of 2,500"
expect_eq "$out" "deleted 2500 tasks" "2,500 deleted over rounds"
expect_jq "$(call task.list '{"queue":"bulk"}')" '.result.tasks == []' "nothing left of queue bulk"

# ---- queues: a typo makes no queue; delete refuses unfinished tasks
c queue pause typo
want_rc 4 "queue pause of an unknown queue"
[[ $err == *"no queue typo"*"--create makes it"* ]] || fail "queue pause typo: $err"
expect_jq "$(rpc queue.list)" '[.queues[].name] | index("typo") == null' "no queue typo made"
c queue pause --create typo
want_rc 0 "queue pause --create"
p=$(submit '{"kind":"sleep","seconds":0,"queue":"typo"}')
c queue delete typo
want_rc 4 "queue delete with a pending task"
[[ $err == *"QueueNotEmpty: queue typo has 1 pending or running task"* ]] || fail "QueueNotEmpty: $err"
expect_jq "$(call queue.delete '{"name":"typo"}')" '.error.code == 10 and .error.data == {"name":"typo","tasks":1}' "QueueNotEmpty's data"
ctl queue set typo --concurrency 1 >/dev/null || fail "queue set typo"
ctl queue resume typo >/dev/null || fail "queue resume typo"
wait_done "$p" 30
c queue delete typo
want_rc 0 "queue delete once its task ended"
expect_eq "$out" "deleted queue typo" "queue delete's words"
expect_jq "$(rpc queue.list)" '[.queues[].name] | index("typo") == null' "queue typo deleted"
expect_eq "$(state "$p")" succeeded "a deleted queue's finished task keeps it"
c queue delete typo
want_rc 4 "queue delete of a deleted queue"
# resumed with no limit and no task left, a queue is freed by itself
ctl queue pause --create gone-by-itself >/dev/null || fail "queue pause --create"
ctl queue resume gone-by-itself >/dev/null || fail "queue resume"
expect_jq "$(rpc queue.list)" '[.queues[].name] | index("gone-by-itself") == null' "a queue without settings or tasks is freed"
expect_jq "$(call queue.delete '{"name":"default"}')" '.error.code == -32602 and .error.data.field == "name"' "the default queue is not deleted"
expect_jq "$(call queue.set '{"name":"nq","paused":true,"create":false}')" '.error.code == 9 and .error.data.name == "nq"' "queue.set create false of a new queue"
expect_jq "$(call queue.set '{"name":"nq","paused":true}')" '.result.paused == true' "queue.set still makes a queue by default"

# ---- names used once are freed: 1,100 queues in rounds of 100, each round
# ended before the next; a queue that was not freed would refuse round 11
for round in $(seq 0 10); do
    "$PYTHON" -c 'import json, sys; r = int(sys.argv[1]); print(json.dumps([{"jsonrpc":"2.0","id":i,"method":"task.submit","params":{"kind":"sleep","seconds":0,"queue":"once%d" % i}} for i in range(r * 100, r * 100 + 100)]))' "$round" >"$T/once.json"
    post "@$T/once.json" >"$T/once.out"
    expect_eq "$(jq '[.[] | select(.error)] | length' "$T/once.out")" 0 "queues once$((round * 100))..: none refused"
    w=$(CURL_MAX=70 call task.wait "{\"ids\":$(jq -c '[.[].result.id // empty]' "$T/once.out"),\"timeout\":$(scaled 50)}")
    expect_jq "$w" '.result.pending == []' "round $round ended"
done
poll_until 60 eval '[ "$(rpc queue.list | jq "[.queues[].name | select(startswith(\"once\"))] | length")" = 0 ]' ||
    fail "queues with no task and no settings were not freed: $(rpc queue.list | jq '.queues | length') queues"
expect_jq "$(call task.submit '{"kind":"sleep","seconds":0,"queue":"one-more"}')" '.result.id > 0' "a new queue after 1,100 used ones"

# ---- a deleted queue stays deleted across a restart; settings kept
ctl queue set --create keepme --concurrency 2 >/dev/null || fail "queue set keepme"
ctl queue set --create dropme --concurrency 3 >/dev/null || fail "queue set dropme"
ctl queue delete dropme >/dev/null || fail "queue delete dropme"
stop_daemon; start_daemon --jobs 4
expect_jq "$(rpc queue.list)" '([.queues[] | select(.name == "keepme")][0].concurrency == 2) and ([.queues[].name] | index("dropme") == null)' "queues after a restart"

# ---- task.list by kind and by text (the dashboard's search)
needle=$(submit '{"kind":"exec","argv":["echo","needle-in-argv"],"queue":"search"}')
lab=$(submit '{"kind":"sleep","seconds":0,"queue":"search","labels":{"who":"needle-in-label"}}')
keyed=$(submit '{"kind":"sleep","seconds":0,"queue":"search","key":"needle-key"}')
other=$(submit '{"kind":"exec","argv":["true"],"queue":"search"}')
wait_done "$needle"; wait_done "$lab"; wait_done "$keyed"; wait_done "$other"
ids() { rpc task.list "$1" | jq -c '[.tasks[].id]'; }
expect_eq "$(ids '{"queue":"search","kind":"exec"}')" "[$other,$needle]" "kind exec"
expect_eq "$(ids '{"queue":"search","kind":"sleep"}')" "[$keyed,$lab]" "kind sleep"
expect_eq "$(ids '{"queue":"search","kind":"nosuch"}')" "[]" "an unknown kind: none"
expect_eq "$(ids '{"queue":"search","text":"needle-in"}')" "[$lab,$needle]" "text in the argv and in a label"
expect_eq "$(ids '{"queue":"search","text":"needle-key"}')" "[$keyed]" "text: the key"
expect_eq "$(ids "{\"text\":\"$other\",\"queue\":\"search\"}")" "[$other]" "text: the id"
expect_eq "$(ids '{"queue":"search","text":"needle","kind":"exec","limit":1}')" "[$needle]" "text and kind"
expect_jq "$(call task.list '{"text":""}')" '.error.code == -32602 and .error.data.field == "text"' "empty text"
expect_jq "$(call task.list "{\"text\":\"$(printf 'x%.0s' $(seq 257))\"}")" '.error.code == -32602' "text of 257 bytes"
exit 0
