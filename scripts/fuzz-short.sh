#!/usr/bin/env bash
# Run every Go fuzz target in the module for FUZZTIME each (default 10s), and
# report the CPU time the fuzzing took (`make fuzz FUZZTIME=10m`):
#   scripts/fuzz-short.sh [FUZZTIME]
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-10s}
failed=0 ran=0
while read -r pkg; do
	[ -n "$pkg" ] || continue
	mapfile -t targets < <(timeout 300 go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
	for t in ${targets[@]+"${targets[@]}"}; do
		ran=$((ran + 1))
		echo "== fuzz $pkg $t ($fuzztime)"
		if ! timeout 900 go test -run '^$' -fuzz "^$t\$" -fuzztime "$fuzztime" "$pkg"; then
			failed=$((failed + 1))
			echo "FAIL: $pkg $t"
		fi
	done
done < <(timeout 300 go list -f '{{if .TestGoFiles}}{{.ImportPath}}{{else if .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...)
echo "fuzz: $((ran - failed)) passed, $failed failed"
# CPU time: `times` prints the shell's, then its children's (the fuzzers'),
# user and system (not in a pipe: a subshell's children are not ours).
echo "fuzz: CPU time, shell then fuzzers (user system):"
times
[ "$failed" -eq 0 ]
