#!/bin/sh
# moat.conf(5) must state the defaults the code uses.  From the man
# page's "## options" section, each option (a line starting with *name*)
# must have a "Default: VALUE" statement in its text; the timeouts' values
# are the rows of the table under *timeout*.  defaults_table prints the
# code's values (after checking that the parser, conntrack and the flood
# detector agree with moat/defaults.h); the two lists must be equal, so a
# change to either side alone fails.
# usage: defaults.sh MANPAGE DEFAULTS_TABLE
set -eu
man=$1
table=$2
tmp=$(mktemp -d /tmp/moat-defaults.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$table" >"$tmp/code"

awk -v out="$tmp/man" '
function flush(   v) {
	if (opt == "")
		return
	if (opt == "timeout") {
		if (rows == 0) {
			print "moat.conf(5): timeout: no table of defaults" > "/dev/stderr"
			bad = 1
		}
	} else if (match(body, /Default: [^.(,;]*/)) {
		v = substr(body, RSTART + 9, RLENGTH - 9)
		gsub(/\*/, "", v)
		gsub(/[ \t]+/, " ", v)
		gsub(/^ +| +$/, "", v)
		print opt " " v > out
	} else {
		print "moat.conf(5): option " opt ": no \"Default:\" statement" > "/dev/stderr"
		bad = 1
	}
	opt = ""
	body = ""
}
/^## / {
	flush()
	in_opts = ($0 == "## options")
	next
}
!in_opts { next }
# the synopsis of the section (*options* *{* ...) is not an option
/^\*[a-z][a-z-]*\*/ && !/^\*options\*/ {
	flush()
	opt = $0
	sub(/^\*/, "", opt)
	sub(/\*.*/, "", opt)
	rows = 0
	next
}
opt == "timeout" && /^\|  / { name = $0; sub(/^\|  */, "", name); col = 1; next }
opt == "timeout" && /^:  / && col == 1 {
	v = $0
	sub(/^:  */, "", v)
	print "timeout " name " " v > out
	rows++
	col = 2
	next
}
opt != "" { body = body " " $0 }
END {
	flush()
	exit bad
}' "$man"

sort "$tmp/code" >"$tmp/code.sorted"
sort "$tmp/man" >"$tmp/man.sorted"
if ! diff -u --label "the code (defaults_table)" --label "moat.conf(5)" \
	"$tmp/code.sorted" "$tmp/man.sorted"; then
	echo "moat.conf(5) and the code disagree on defaults (moat/defaults.h)" >&2
	exit 1
fi
echo "moat.conf(5) states the code's $(wc -l <"$tmp/code") defaults"
