#!/usr/bin/env bash
# metrics.sh: cifsd's Prometheus metrics (-metrics, at $METRICS_URL) move by
# what an smbclient session did: one logon, two tree connects (smbclient
# first asks IPC$ for a DFS referral of the share, since the server
# advertises DFS as Samba does, then connects the share), a 100000-byte
# file written and read back.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
: "${SMB_PORT:?set SMB_PORT}" "${METRICS_URL:?set METRICS_URL}"
tmp=$(mktemp -d /tmp/metrics.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# value NAME FILE: the sample NAME (with its labels, as exposed) in FILE, 0 if absent.
value() { awk -v n="$1" '$1 == n { print $2; found=1 } END { if (!found) print 0 }' "$2"; }

pass=0 fail=0
check() { # check NAME WANT: NAME moved by WANT between the scrapes
	local before after
	before=$(value "$1" "$tmp/before") after=$(value "$1" "$tmp/after")
	if awk -v b="$before" -v a="$after" -v w="$2" 'BEGIN { exit !(a - b == w) }'; then
		echo "ok: $1 moved by $2"
		pass=$((pass + 1))
	else
		echo "FAIL: $1 moved from $before to $after, want +$2"
		fail=$((fail + 1))
	fi
}

head -c 100000 /dev/urandom >"$tmp/file"
timeout 30 curl -sf "$METRICS_URL" >"$tmp/before"
(cd "$tmp" && timeout 60 smbclient "//$SMB_HOST/$SMB_SHARE" -p "$SMB_PORT" -U "$SMB_USER%$SMB_PASS" \
	-c "put file metrics-file; get metrics-file back; del metrics-file" >/dev/null)
timeout 30 curl -sf "$METRICS_URL" >"$tmp/after"
cmp -s "$tmp/file" "$tmp/back" || { echo "FAIL: the file read back differs"; fail=$((fail + 1)); }

check cifsd_written_bytes_total 100000
check cifsd_read_bytes_total 100000
check cifsd_sessions_established_total 1
check cifsd_tree_connects_total 2
check 'cifsd_requests_total{command="TREE_CONNECT",status="STATUS_SUCCESS"}' 2
check 'cifsd_requests_total{command="IOCTL",status="STATUS_NOT_FOUND"}' 1 # the referral: no DFS root
# The session is over: nothing is held any more, once the server has seen
# the connection close.
for ((i = 0; i < 50; i++)); do
	[ "$(value cifsd_sessions "$tmp/after")" = 0 ] && break
	sleep 0.1
	timeout 30 curl -sf "$METRICS_URL" >"$tmp/after"
done
for g in cifsd_sessions cifsd_tree_connects cifsd_open_files; do
	if [ "$(value "$g" "$tmp/after")" = 0 ]; then
		echo "ok: $g is 0 after the session"
		pass=$((pass + 1))
	else
		echo "FAIL: $g is $(value "$g" "$tmp/after") after the session"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
