#!/usr/bin/env bash
# rpc-torture.sh LISTFILE: run the smbtorture RPC tests named in LISTFILE
# against a running server and report per test.
# LISTFILE lines are "SUITE: TEST" (TEST as smbtorture prints it after
# "success: ", e.g. "rpc.srvsvc: srvsvc (admin access).NetSessEnum"); '#'
# starts a comment. Each suite runs once, whole (RPC suites take seconds),
# and each listed test must succeed in it.
# Target: SMB_HOST SMB_PORT SMB_SHARE SMB_USER SMB_PASS (scripts/lib.sh).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
: "${SMB_PORT:?set SMB_PORT}"
list=${1:?usage: $0 LISTFILE}
work=$(mktemp -d /tmp/rpc-torture.XXXXXX)
trap 'rm -rf "$work"' EXIT
mapfile -t entries < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$list")
mapfile -t suites < <(printf '%s\n' "${entries[@]}" | sed 's/: .*//' | sort -u)
pass=0 failed=0
for s in "${suites[@]}"; do
	timeout 600 smbtorture "//$SMB_HOST/$SMB_SHARE" -p "$SMB_PORT" -U "$SMB_USER%$SMB_PASS" "$s" \
		>"$work/$s.out" 2>&1 || true
	for e in "${entries[@]}"; do
		[ "${e%%: *}" = "$s" ] || continue
		t=${e#*: }
		if grep -qxF "success: $t" "$work/$s.out"; then
			echo "ok: $s $t"
			pass=$((pass + 1))
		else
			echo "FAIL: $s $t"
			grep -A3 -F -- "$t [" "$work/$s.out" | head -n 6 || true
			failed=$((failed + 1))
		fi
	done
done
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
