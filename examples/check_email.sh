#!/bin/sh
# check_email.sh: the seed's check_email loop as a futured schedule.  The
# seed ran `while True: check_email(); await asyncio.sleep(5)` next to a
# prime generator; here futured owns the loop: a schedule fires every few
# seconds, each firing is a task with its own result, kept, and the loop
# survives restarts (and kill -9: missed firings are caught up per the
# schedule's policy).  The prime generator runs alongside as any task.
#
#   ./examples/check_email.sh install [SECONDS] [MAILDIR]   # the schedule
#   ./examples/check_email.sh check MAILDIR                 # one check (what it runs)
#   ./examples/check_email.sh remove                        # the schedule gone
#
# One check moves the messages in MAILDIR/new to MAILDIR/cur, yields each
# one's name (fd 3: `futurectl follow` shows them) and prints how many.
# FUTURECTL names the futurectl to use (default: the one on PATH).
set -eu
ctl=${FUTURECTL:-futurectl}
here=$(cd "$(dirname "$0")" && pwd)

check() {
	dir=$1
	[ -d "$dir/new" ] || { echo "check_email: no maildir $dir" >&2; exit 2; }
	mkdir -p "$dir/cur"
	if [ -z "${FUTURED_YIELD_FD:-}" ] || ! { true >&3; } 2>/dev/null; then
		exec 3>/dev/null
	fi
	n=0
	for m in "$dir"/new/*; do
		[ -f "$m" ] || continue
		mv "$m" "$dir/cur/"
		printf '"%s"\n' "$(basename "$m")" >&3
		n=$((n + 1))
	done
	echo "$n new messages"
}

case ${1:-} in
check)
	check "${2:?usage: check_email.sh check MAILDIR}" ;;
install)
	every=${2:-5}
	dir=${3:-$PWD/mail}
	mkdir -p "$dir/new" "$dir/cur"
	$ctl schedule add check-email --every "$every" --overlap skip \
	    --catchup latest -- "$here/check_email.sh" check "$dir"
	primes=$($ctl submit --cwd "$here" -- ./primes.sh 2000)
	echo "primes: task $primes (futurectl follow $primes)"
	echo "watch:  $ctl schedule ls; $ctl list --label schedule=check-email" ;;
remove)
	$ctl schedule rm check-email ;;
*)
	echo "usage: check_email.sh install [SECONDS] [MAILDIR] | check MAILDIR | remove" >&2
	exit 2 ;;
esac
