#!/usr/bin/env bash
# The daemon's layers (daemon/Makemodule.am, doc/ARCHITECTURE.md), one folder
# each, bottom to top: base < store < run < model < rpc < http < service.
# A file may call (or use data of) its own layer and those below, never above;
# completions go up only through function pointers, which nm cannot see.
#
# Checked from the built objects, not by grepping the sources, because a
# call is only certain once the compiler resolved it: every member of
# daemon/libfutured.a, plus futured.c's own object (main, layer service).
# An undefined symbol (U) that another daemon object defines (T D B R C ...)
# is an edge caller layer -> callee layer.  Anything else (libc, libevent,
# jansson, sqlite, curl, proto's fp_* which is below every layer) is ignored.
# Includes are checked textually too: `#include "model/model.h"` in
# daemon/store/ is a violation even when no call results from it.
#
# Environment: FUTURED_SRC (the checkout), FUTURED_BUILD (its build tree);
# they default to this checkout and its build/ (or the checkout, if built
# in place).  Exit 0 and a summary when all is downward, else 1 and one line
# per violation, sorted; 99 when there is nothing built to check.
set -euo pipefail
export LC_ALL=C
shopt -s nullglob	# an empty folder is no folder, not a literal '*.c'

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${FUTURED_SRC:=$(cd "$here/.." && pwd)}"
if [ -z "${FUTURED_BUILD:-}" ]; then
	FUTURED_BUILD=$FUTURED_SRC/build
	[ -e "$FUTURED_BUILD/daemon/libfutured.a" ] || FUTURED_BUILD=$FUTURED_SRC
fi
LAYERS="base store run model rpc http service"

archive=$FUTURED_BUILD/daemon/libfutured.a
[ -f "$archive" ] || { echo "layers: no $archive (build first)" >&2; exit 99; }
# futured.c is the program's main, not in the library.  Automake names its
# object after the program (futured-futured.o), next to its source with
# subdir-objects; a stale daemon/futured-futured.o of the flat layout is
# deliberately not looked at.
mains=("$FUTURED_BUILD"/daemon/service/*futured-futured.o)
[ ${#mains[@]} -eq 1 ] || {
	echo "layers: want one daemon/service/*futured-futured.o in" \
	     "$FUTURED_BUILD, found ${#mains[@]}" >&2; exit 99; }

# nm into a variable first, so that a failing nm stops the script (set -e)
# instead of leaving awk a partial listing to approve.  -P: one symbol a line,
# "NAME TYPE ...", prefixed (-A) by "libfutured.a[member]: " or "service/x.o: "
# (run from daemon/ so that no path with spaces or colons gets in); -g: only
# global symbols, the only ones another object can reach.
syms=$(cd "$FUTURED_BUILD/daemon" &&
	nm -P -A -g libfutured.a "service/${mains[0]##*/}")

# One stream for awk, tab-separated records:  SRC rel abs  (a source file of
# the checkout), GEN rel abs  (a source generated in the build tree, e.g.
# rpc-openrpc.c: its layer is the folder it is generated in), NM line.
{
	for f in "$FUTURED_SRC"/daemon/*/*.[ch]; do
		printf 'SRC\t%s\t%s\n' "${f#"$FUTURED_SRC"/}" "$f"; done
	# (built in place, these are the SRC files again: harmless duplicates)
	for f in "$FUTURED_BUILD"/daemon/*/*.c; do
		printf 'GEN\t%s\t%s\n' "${f#"$FUTURED_BUILD"/}" "$f"; done
	printf '%s\n' "$syms" | awk '{ print "NM\t" $0 }'
} | LAYERS=$LAYERS awk -F '\t' '
function bad(msg) { nbad++; badl[nbad] = msg }
function layer(rel,   p) { split(rel, p, "/"); return p[2] }
BEGIN {
	n = split(ENVIRON["LAYERS"], L, " ")
	for (i = 1; i <= n; i++) rank[L[i]] = i
	main = "daemon/service/futured.c"
}
$1 == "SRC" || $1 == "GEN" {
	rel = $2; lay = layer(rel)
	if (!(lay in rank)) { bad(rel ": daemon/" lay "/ is not a layer"); next }
	if (rel ~ /\.c$/) {
		# The archive names members by file name only (libfutured_a-NAME.o):
		# a name must lead back to exactly one folder.
		name = rel; sub(/^.*\//, "", name); sub(/\.c$/, "", name)
		if (!((name, lay) in seen)) {
			seen[name, lay]; nfold[name]++
			# (not "where[name] = (name in where) ? ...": mawk creates the
			# element it assigns before it evaluates the test)
			if (name in where) where[name] = where[name] " " rel
			else where[name] = rel
		}
		if ($1 == "SRC" && rel != main) want[rel]
	}
	# Includes, textually: "LAYER/x.h" (or "../LAYER/x.h") above our layer.
	while ((getline line < $3) > 0) {
		if (line !~ /^[ \t]*#[ \t]*include[ \t]*"/) continue
		inc = line; sub(/^[^"]*"/, "", inc); sub(/".*$/, "", inc)
		to = inc; sub(/^(\.\.\/)+/, "", to)
		if (to !~ /\//) continue
		sub(/\/.*$/, "", to)
		if ((to in rank) && rank[to] > rank[lay])
			bad(rel " -> #include \"" inc "\": " lay " may not include " to)
	}
	close($3)
	next
}
$1 == "NM" {
	if ($2 == "") next		# nm printed nothing at all
	split($2, f, " ")
	obj = f[1]; sym = f[2]; t = f[3]
	if (!(obj in file)) {
		nobj++
		if (obj ~ /^libfutured\.a\[/) {
			name = obj; sub(/\]:$/, "", name); sub(/^.*\[/, "", name)
			sub(/^([A-Za-z0-9_]*_)?libfutured_a-/, "", name); sub(/\.o$/, "", name)
			if (nfold[name] == 1) file[obj] = where[name]
			else {
				file[obj] = "?" name
				if (nfold[name] == 0) bad(obj " no daemon/*/" name ".c to place it in a layer")
				else {
					bad(name ".c is in more than one folder: " where[name])
					nw = split(where[name], w, " ")
					for (i = 1; i <= nw; i++) built[w[i]]	# not missing too
				}
			}
		} else file[obj] = main
		built[file[obj]]
	}
	if (t == "U" || t == "w" || t == "v") { nuse++; ufile[nuse] = file[obj]; usym[nuse] = sym }
	else if (t ~ /^[A-Z]$/ && !(sym in def)) def[sym] = file[obj]
	next
}
END {
	for (rel in want)
		if (!(rel in built)) bad(rel ": no object in libfutured.a (listed in daemon/Makemodule.am?)")
	for (i = 1; i <= nuse; i++) {
		s = usym[i]
		if (!(s in def)) continue		# not the daemon: library, proto
		edges++			# an edge: one object using one daemon symbol
		from = ufile[i]; to = def[s]
		if (from ~ /^\?/ || to ~ /^\?/) continue	# already reported
		if (rank[layer(to)] > rank[layer(from)])
			bad(from " -> " s " (" to "): " layer(from) " may not call " layer(to))
	}
	if (nobj == 0) bad("no objects in libfutured.a")
	# mawk has no asort: an insertion sort, the list is short.
	for (i = 2; i <= nbad; i++)
		for (j = i; j > 1 && badl[j - 1] > badl[j]; j--) {
			x = badl[j]; badl[j] = badl[j - 1]; badl[j - 1] = x
		}
	for (i = 1; i <= nbad; i++) if (i == 1 || badl[i] != badl[i - 1]) print badl[i]
	if (nbad) exit 1
	printf "# layers: %d objects, %d edges, all downward\n", nobj, edges
}'
