#!/usr/bin/env bash
# futurectl and the concurrency keys and rate limits (PROTOCOL.md
# "Concurrency keys and rate limits", issue #17): `rate set NAME --starts N
# [--per S] [--burst B]` makes a rate limit and prints it as `rate ls`
# does (NAME STARTS PER BURST, then "N tasks waiting for a limit"; --json:
# rate.list's answer), a second set changes it, `rate rm` deletes it (again:
# refused, 4, naming it); `submit --rate-limit NAME --rate-key K` hands
# both to the task (task.get's limits) and it runs; two futures submitted
# with `--concurrency k=1`: the first runs, the second is pending and `get`
# says "waiting for: concurrency key k" (rate ls counts it) until `resolve`
# ends the first, then it runs; `--concurrency` is repeatable, a key may
# hold '=' and ':' and `schedule add` takes the options too.  Bad input: a
# --concurrency without =N or with a bad N, --rate-key without
# --rate-limit, `rate set` without --starts or with a --starts that is not
# a number are usage errors (2, nothing sent); --concurrency k=0 is refused
# with the daemon's own reason (checked before sending, as every task
# option is); an unknown --rate-limit, `rate set --starts 0` and a --per
# out of range are refused by futured (4, naming the field).
. "$(dirname "$0")/harness.sh"
[ -x "$FUTURECTL" ] || fail "no $FUTURECTL"
start_daemon --jobs 4

field() { rpc task.get "{\"id\":$1}" | jq -c ".$2"; }

# ---- usage errors: 2, nothing sent
c submit --concurrency k future
want_rc 2 "--concurrency without =N"
[[ $err == *"--concurrency"*"KEY=N"* && $err == *usage:* ]] ||
    fail "--concurrency k: $err"
c submit --concurrency k=x future
want_rc 2 "--concurrency k=x"
c submit --concurrency =1 future
want_rc 2 "--concurrency with an empty key"
c submit --concurrency k=0 future
want_rc 2 "--concurrency k=0"
[[ $err == *"--concurrency"*"1 to 100000"* ]] || fail "--concurrency k=0: $err"
c submit --rate-key c1 future
want_rc 2 "--rate-key without --rate-limit"
[[ $err == *--rate-key* ]] || fail "--rate-key alone: $err"
c rate
want_rc 2 "rate without a subcommand"
c rate frobnicate
want_rc 2 "an unknown rate subcommand"
c rate set api
want_rc 2 "rate set without --starts"
[[ $err == *--starts* ]] || fail "rate set without --starts: $err"
c rate set api --starts ten
want_rc 2 "rate set --starts ten"
c rate set api --starts 5 --per forever
want_rc 2 "rate set --per forever"
c rate set --starts 5
want_rc 2 "rate set without a name"
c rate rm
want_rc 2 "rate rm without a name"
c rate ls --starts 5
want_rc 2 "rate ls --starts"
c --json rate ls
want_rc 0 "rate ls with none"
expect_jq "$out" '. == {"rate_limits": [], "waiting": 0}' "nothing was made by the usage errors"
c list
[ "$(wc -l <<<"$out")" -le 1 ] || fail "the usage errors submitted tasks: $out"

# ---- refused by futured: 4, the field named
c rate set x --starts 0
want_rc 4 "rate set --starts 0"
[[ $err == *starts* ]] || fail "rate set --starts 0: $err"
c rate set x --starts 5 --per 0
want_rc 4 "rate set --per 0"
[[ $err == *per* ]] || fail "rate set --per 0: $err"
c submit --rate-limit nosuch future
want_rc 4 "--rate-limit of no rate limit"
[[ $err == *rate_limit*nosuch* ]] || fail "an unknown --rate-limit: $err"
c rate rm nosuch
want_rc 4 "rate rm of no rate limit"
[[ $err == *nosuch* ]] || fail "rate rm nosuch: $err"

# ---- rate set, ls, a task taking its tokens
c rate set api --starts 10 --per 1m --burst 5
want_rc 0 "rate set"
expect_eq "$(head -1 <<<"$out" | tr -s ' ')" "NAME STARTS PER BURST" "rate set's header"
expect_eq "$(sed -n 2p <<<"$out" | tr -s ' ')" "api 10 60s 5" "rate set's row"
c rate set api --starts 20
want_rc 0 "rate set again"
expect_eq "$(sed -n 2p <<<"$out" | tr -s ' ')" "api 20 1s 1" "a second set changes it (per and burst as defaulted)"
c --json rate set slow --starts 1 --per 0.5
want_rc 0 "rate set --json"
expect_jq "$out" '.name == "slow" and .starts == 1 and .per == 0.5 and .burst == 1' "rate set --json"
c rate ls
want_rc 0 "rate ls"
expect_eq "$(tr -s ' ' <<<"$out")" $'NAME STARTS PER BURST\napi 20 1s 1\nslow 1 0.5s 1\n0 tasks waiting for a limit' "rate ls"
c submit --rate-limit api --rate-key cust:42 -- echo limited
want_rc 0 "submit --rate-limit --rate-key"
rl=$out
wait_done "$rl"
expect_jq "$(rpc task.get "{\"id\":$rl}")" '.state == "succeeded" and .limits == {"rate_limit":"api","rate_key":"cust:42"}' "the task has its rate limit and ran"
c result "$rl"
expect_eq "$out" "limited" "the rate-limited task's output"
c get "$rl"
[[ $out == *"limits:"*"rate limit api (key cust:42)"* ]] || fail "get of a rate-limited task: $out"

# ---- --concurrency k=1: the second future waits for the first
c submit --concurrency k=1 future
want_rc 0 "submit --concurrency k=1 future"
f1=$out
c submit --concurrency k=1 future
want_rc 0 "a second one"
f2=$out
wait_state "$f1" running
sleep 0.3
expect_eq "$(state "$f2")" pending "the second task of key k (limit 1)"
expect_jq "$(rpc task.get "{\"id\":$f2}")" '.waiting_for == {"limit":"concurrency","key":"k"} and .limits == {"concurrency":{"k":1}}' "task.get of the second"
c get "$f2"
want_rc 0 "get of the waiting task"
[[ $out == *"waiting for: concurrency key k"* ]] || fail "get does not say what it waits for: $out"
[[ $out == *"limits:"*"concurrency k=1"* ]] || fail "get does not show the limits: $out"
c --json get "$f2"
expect_jq "$out" '.waiting_for.key == "k"' "get --json"
c rate ls
expect_eq "$(tail -1 <<<"$out")" "1 task waiting for a limit" "rate ls counts the waiting task"
c resolve "$f1" 1
want_rc 0 "resolve the first"
wait_state "$f2" running
c get "$f2"
[[ $out != *"waiting for"* ]] || fail "get of the running task still waits: $out"
c resolve "$f2" 2
want_rc 0 "resolve the second"

# ---- keys with '=' and ':', repeated; schedule add takes the options
c submit --concurrency 'a=b:c=2' --concurrency db=5 --sleep 0
want_rc 0 "two --concurrency, a key holding = and :"
wait_done "$out"
expect_eq "$(field "$out" limits)" '{"concurrency":{"a=b:c":2,"db":5}}' "the keys and limits sent"
c schedule add lim --every 1h --paused --concurrency db=1 --rate-limit api \
    --rate-key s -- true
want_rc 0 "schedule add with the limits"
expect_jq "$(ctl --json schedule show lim)" '.task.concurrency == {"db":1} and .task.rate_limit == "api" and .task.rate_key == "s"' "the schedule's task has them"
ctl schedule rm lim >/dev/null || fail "schedule rm"

# ---- rate rm
c rate rm slow
want_rc 0 "rate rm"
expect_eq "$out" "deleted rate limit slow" "rate rm's output"
c --json rate rm api
want_rc 0 "rate rm --json"
expect_jq "$out" '. == {"name":"api","deleted":true}' "rate rm --json"
c rate rm api
want_rc 4 "rate rm of a deleted one"
c --json rate ls
expect_jq "$out" '.rate_limits == []' "none left"

note "ctl_limits: ok"
