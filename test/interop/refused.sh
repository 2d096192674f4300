#!/usr/bin/env bash
# refused.sh DIALECT: an smbclient session at DIALECT must be refused with
# NT_STATUS_ACCESS_DENIED (a server that requires encryption refuses SMB 2.x).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
: "${SMB_PORT:?set SMB_PORT}"
m=${1:?dialect}
rc=0
out=$(timeout 60 smbclient "//$SMB_HOST/$SMB_SHARE" -p "$SMB_PORT" -U "$SMB_USER%$SMB_PASS" -m "$m" -c ls 2>&1) || rc=$?
if [ "$rc" -ne 0 ] && grep -q NT_STATUS_ACCESS_DENIED <<<"$out"; then
	echo "ok: $m session refused with NT_STATUS_ACCESS_DENIED"
	echo "1 passed, 0 failed"
else
	echo "FAIL: $m session not refused: $out"
	echo "0 passed, 1 failed"
	exit 1
fi
