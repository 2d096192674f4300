#!/usr/bin/env bash
# rpc.sh: Windows administration over IPC$ with Samba's tools against a
# running server: rpcclient's lsarpc, samr and srvsvc commands, and
# smbcacls naming users in security descriptors.
# Target: SMB_HOST SMB_PORT SMB_SHARE SMB_USER SMB_PASS (scripts/lib.sh);
# SMB_USER must administer the server (cifsd -admin). RPC_USER2 and
# RPC_PASS2 are a second, ordinary user. smbcacls has no port option and
# dials 445: CACLS_HOST names a loopback address where the same server
# listens on 445; or, as root, RPC_CIFSD_BIN names a cifsd binary this
# script starts on a loopback address's port 445 over SMB_SHARE_DIR with the
# same users. Without either the smbcacls checks are skipped.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
: "${SMB_PORT:?set SMB_PORT}"
: "${RPC_USER2:=bob}" "${RPC_PASS2:=bobpass}"
cacls_pid=''
trap '[ -z "$cacls_pid" ] || kill_wait "$cacls_pid"' EXIT
if [ -z "${CACLS_HOST:-}" ] && [ -n "${RPC_CIFSD_BIN:-}" ] && [ -n "${SMB_SHARE_DIR:-}" ] && [ "$(id -u)" -eq 0 ]; then
	for _ in 1 2 3 4 5; do
		h=127.0.0.$((2 + RANDOM % 250))
		timeout 2 bash -c "exec 3<>/dev/tcp/$h/445" 2>/dev/null && continue
		"$RPC_CIFSD_BIN" -listen "$h:445" -share "$SMB_SHARE=$SMB_SHARE_DIR" -user "$SMB_USER:$SMB_PASS" \
			-user "$RPC_USER2:$RPC_PASS2" -admin "$SMB_USER" >"${TMPDIR:-/tmp}/rpc-sh-cacls.$$.log" 2>&1 &
		cacls_pid=$!
		for ((i = 0; i < 100; i++)); do
			timeout 2 bash -c "exec 3<>/dev/tcp/$h/445" 2>/dev/null && { CACLS_HOST=$h; break; }
			sleep 0.1
		done
		break
	done
fi
pass=0 failed=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }
# check NAME PATTERN OUTPUT: OUTPUT has a line matching the extended regex.
check() {
	if grep -Eq -- "$2" <<<"$3"; then ok "$1"; else fail "$1: no /$2/ in: $3"; fi
}
rpc() { timeout 60 rpcclient -p "$SMB_PORT" "$SMB_HOST" -U "$SMB_USER%$SMB_PASS" -c "$1" 2>&1 || true; }
rpc2() { timeout 60 rpcclient -p "$SMB_PORT" "$SMB_HOST" -U "$RPC_USER2%$RPC_PASS2" -c "$1" 2>&1 || true; }

out=$(rpc lsaquery)
check "lsaquery names the workgroup" '^Domain Name: WORKGROUP' "$out"

out=$(rpc "lookupnames $SMB_USER $RPC_USER2 Everyone")
check "lookupnames: $SMB_USER is a user of the server's domain" "^$SMB_USER S-1-5-21-[0-9-]+ \(User: 1\)" "$out"
check "lookupnames: Everyone is S-1-1-0" '^Everyone S-1-1-0 \(Well-known Group: 5\)' "$out"
sid=$(sed -n "s/^$SMB_USER \(S-1-5-21-[0-9-]*\) .*/\1/p" <<<"$out")
sid2=$(sed -n "s/^$RPC_USER2 \(S-1-5-21-[0-9-]*\) .*/\1/p" <<<"$out")

out=$(rpc "lookupsids ${sid:-S-1-5-21-1-2-3-4} S-1-5-32-544 S-1-5-18")
check "lookupsids names the user's SID" "^$sid [A-Za-z0-9_-]+\\\\$SMB_USER \(1\)" "$out"
check "lookupsids names BUILTIN\\Administrators" '^S-1-5-32-544 BUILTIN\\Administrators \(4\)' "$out"
check "lookupsids names NT AUTHORITY\\SYSTEM" '^S-1-5-18 NT AUTHORITY\\SYSTEM \(5\)' "$out"

out=$(rpc enumdomusers)
check "enumdomusers lists $SMB_USER" "^user:\[$SMB_USER\] rid:\[0x[0-9a-f]+\]" "$out"
check "enumdomusers lists $RPC_USER2" "^user:\[$RPC_USER2\] rid:\[0x[0-9a-f]+\]" "$out"
out=$(rpc enumdomgroups)
check "enumdomgroups lists the users' group" '^group:\[None\] rid:\[0x201\]' "$out"

rid=$(printf '0x%x' "${sid##*-}")
out=$(rpc "queryuser $rid")
check "queryuser $rid names $SMB_USER" "User Name +:[[:space:]]+$SMB_USER\$" "$out"

out=$(rpc "netsharegetinfo $SMB_SHARE 502")
check "netsharegetinfo $SMB_SHARE 502" "^netname: $SMB_SHARE\$" "$out"
check "netsharegetinfo gives the path" 'path:[[:space:]]+C:\\' "$out"

out=$(rpc srvinfo)
check "srvinfo: an NT server" 'platform_id +:[[:space:]]+500' "$out"

# A second user holds a file open while the administrator looks.
echo hello >"${TMPDIR:-/tmp}/rpc-sh.$$"
timeout 60 smbclient "//$SMB_HOST/$SMB_SHARE" -p "$SMB_PORT" -U "$SMB_USER%$SMB_PASS" \
	-c "put ${TMPDIR:-/tmp}/rpc-sh.$$ rpc-held.txt" >/dev/null 2>&1 || true
rm -f "${TMPDIR:-/tmp}/rpc-sh.$$"
fifo=$(mktemp -u /tmp/rpc-sh-fifo.XXXXXX)
mkfifo "$fifo"
timeout 60 smbclient "//$SMB_HOST/$SMB_SHARE" -p "$SMB_PORT" -U "$RPC_USER2%$RPC_PASS2" <"$fifo" >/dev/null 2>&1 &
holder=$!
exec 7>"$fifo"
echo "open rpc-held.txt" >&7
files=''
for ((i = 0; i < 100; i++)); do
	files=$(rpc netfileenum)
	grep -q 'rpc-held.txt' <<<"$files" && break
	sleep 0.1
done
check "netfileenum shows the file $RPC_USER2 holds open" 'rpc-held\.txt$' "$files"
out=$(rpc netsessenum)
check "netsessenum counts both sessions" '^Received ([2-9]|[1-9][0-9]+) entries' "$out"
out=$(rpc2 netfileenum)
check "netfileenum is refused to an ordinary user" 'WERR_ACCESS_DENIED' "$out"
echo quit >&7
exec 7>&-
wait "$holder" 2>/dev/null || true
rm -f "$fifo"

# winreg has no rpcclient command: impacket reads the synthetic registry.
if "$SYS_PYTHON" -c 'import impacket' 2>/dev/null; then
	out=$(SMB_PORT=$SMB_PORT timeout 60 "$SYS_PYTHON" - "$SMB_HOST" "$SMB_USER" "$SMB_PASS" "$SMB_SHARE" <<'PY' 2>&1 || true
import os, sys
from impacket.dcerpc.v5 import transport, rrp
host, user, pw, share = sys.argv[1:5]
t = transport.SMBTransport(host, int(os.environ['SMB_PORT']), r'\winreg', username=user, password=pw)
d = t.get_dce_rpc(); d.connect(); d.bind(rrp.MSRPC_UUID_RRP)
hklm = rrp.hOpenLocalMachine(d)['phKey']
k = rrp.hBaseRegOpenKey(d, hklm, 'SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion')['phkResult']
print('ProductName=%s' % rrp.hBaseRegQueryValue(d, k, 'ProductName')[1].rstrip('\x00'))
for v in rrp.hBaseRegQueryMultipleValues(d, k, [{'ValueName': 'CurrentMajorVersionNumber', 'ValueType': rrp.REG_DWORD}, {'ValueName': 'InstallationType', 'ValueType': rrp.REG_SZ}]):
    print('multiple %s=%s' % (v['ValueName'].rstrip('\x00'), str(v['ValueData']).rstrip('\x00')))
k = rrp.hBaseRegOpenKey(d, hklm, 'SYSTEM\\CurrentControlSet\\Services\\LanmanServer\\Shares')['phkResult']
print('share value=%s' % rrp.hBaseRegEnumValue(d, k, 0)['lpValueNameOut'].rstrip('\x00'))
try:
    rrp.hBaseRegOpenKey(d, hklm, 'SOFTWARE\\NoSuchKey')
except rrp.DCERPCSessionError as e:
    print('missing key=%d' % e.get_error_code())
PY
)
	check "winreg: the product name" '^ProductName=cifsd$' "$out"
	check "winreg: QueryMultipleValues answers a DWORD" '^multiple CurrentMajorVersionNumber=10$' "$out"
	check "winreg: QueryMultipleValues answers a string" '^multiple InstallationType=Server$' "$out"
	check "winreg: LanmanServer\\Shares lists the share" "^share value=$SMB_SHARE\$" "$out"
	check "winreg: a missing key is ERROR_FILE_NOT_FOUND" '^missing key=2$' "$out"
else
	echo "skip: winreg (no impacket)"
fi

if [ -n "${CACLS_HOST:-}" ]; then
	cacls() { timeout 60 smbcacls "//$CACLS_HOST/$SMB_SHARE" rpc-held.txt -U "$SMB_USER%$SMB_PASS" "$@" 2>&1 || true; }
	out=$(cacls)
	check "smbcacls names the owner" "^OWNER:[A-Za-z0-9_-]+\\\\$SMB_USER\$" "$out"
	check "smbcacls names Everyone" '^ACL:Everyone:ALLOWED' "$out"
	cacls -a "ACL:$RPC_USER2:ALLOWED/0/FULL" >/dev/null
	out=$(cacls)
	check "smbcacls -a sets an entry by name" "^ACL:[A-Za-z0-9_-]+\\\\$RPC_USER2:ALLOWED/0x0/FULL\$" "$out"
else
	echo "skip: smbcacls (no CACLS_HOST listening on 445)"
fi
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
