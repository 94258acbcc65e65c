#!/bin/sh
# fanout.sh [N]: a fan-out/fan-in build.  N parts (default 4) "compile" at
# once as members of a group (asyncio.TaskGroup); a summary task runs
# after the group and reads every member's result from the group's own.
# Had a part failed, the group would have cancelled the others and failed
# with an ExceptionGroup, and the summary would not run (DependencyFailed).
#
#   ./examples/fanout.sh 8
#
# FUTURECTL names the futurectl to use (default: the one on PATH); the
# summary task calls it too, reaching futured through FUTURED_SOCKET, and
# reads the group's result with jq.
set -eu
ctl=${FUTURECTL:-futurectl}
n=${1:-4}
case $n in
''|*[!0-9]*) echo "fanout.sh: N must be a number, not '$n'" >&2; exit 2 ;;
esac

group=$($ctl submit --label build=fanout group)
i=1
while [ "$i" -le "$n" ]; do
	$ctl submit --parent "$group" --label build=fanout \
	    --shell "sleep 0.$i; echo part$i.o" >/dev/null
	i=$((i + 1))
done
$ctl close "$group"	# no more parts: it ends once they have
summary=$($ctl submit --after "$group" --label build=fanout \
    --env CTL="$ctl" --env GROUP="$group" --shell '"$CTL" --json result \
    "$GROUP" | jq -r "map(.result.stdout | rtrimstr(\"\n\")) | join(\" \") + \" -> app\""')
echo "group $group, summary $summary"
$ctl result --wait "$summary"
