#!/bin/sh
# primes.sh [N]: an async generator for futured.  Checks 2 .. N (default 100)
# and yields each prime as soon as it is found: one JSON number per line on
# fd 3, futured's yield pipe ($FUTURED_YIELD_FD), which `futurectl follow`
# prints as the items arrive.  The short pause per prime makes the
# streaming visible.  Run outside futured, the items go to stdout.
#
#   futurectl follow $(futurectl submit --cwd "$PWD" -- ./examples/primes.sh 100)
set -eu

n=${1:-100}
case $n in
''|*[!0-9]*) echo "primes.sh: N must be a number, not '$n'" >&2; exit 2 ;;
esac

# Outside futured there is no fd 3: yield to stdout instead.
if [ -z "${FUTURED_YIELD_FD:-}" ] || ! { true >&3; } 2>/dev/null; then
	exec 3>&1
fi

found=0
i=2
while [ "$i" -le "$n" ]; do
	d=2
	prime=1
	while [ $((d * d)) -le "$i" ]; do
		if [ $((i % d)) -eq 0 ]; then
			prime=0
			break
		fi
		d=$((d + 1))
	done
	if [ "$prime" -eq 1 ]; then
		echo "$i" >&3
		found=$((found + 1))
		sleep 0.02
	fi
	i=$((i + 1))
done
echo "$found primes up to $n"
