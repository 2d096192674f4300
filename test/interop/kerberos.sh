#!/usr/bin/env bash
# Kerberos interop against a running cifsd started with -keytab $KDC_KEYTAB,
# with the realm of scripts/kdc.sh (start_kdc) in the environment.
#   - kinit, then smbclient //$KDC_HOST/share -I 127.0.0.1 --use-kerberos=required
#     put/get + cmp at SMB3_11 signed and encrypted, SMB3_00 encrypted, SMB2_10 signed;
#   - a ticket for cifs/$KDC_OTHER_HOST (whose keys cifsd lacks) is refused;
#   - NTLM (--use-kerberos=disabled) works on the same server meanwhile;
#   - Go: MIT's tickets accepted, replayed/expired/other-service AP-REQs refused,
#     and a Go SMB client (cloudsoda/go-smb2) round-trips a file with Kerberos.
# Prints ok:/FAIL: per check and "N passed, M failed".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

: "${SMB_PORT:?set SMB_PORT}" "${KDC_KEYTAB:?start_kdc first}" "${KDC_HOST:?}" "${KRB5CCNAME:?}"
T=${SMBCLIENT_TIMEOUT:-60}
work=$(mktemp -d /tmp/krb-interop.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 nfail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
fail() { echo "FAIL: $*"; nfail=$((nfail + 1)); }

if echo "$SMB_PASS" | timeout 30 kinit "$SMB_USER@$KDC_REALM" >"$work/kinit" 2>&1; then
	ok "kinit $SMB_USER@$KDC_REALM"
else
	fail "kinit: $(cat "$work/kinit")"
fi

head -c $((1024 * 1024 + 7)) /dev/urandom >"$work/data"

# krbc HOST ARGS...: smbclient with Kerberos only; fails on any NT_STATUS.
krbc() {
	local host=$1 rc=0
	shift
	timeout "$T" smbclient "//$host/$SMB_SHARE" -I 127.0.0.1 -p "$SMB_PORT" \
		--use-kerberos=required "$@" </dev/null >"$work/out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] && ! grep -q 'NT_STATUS_' "$work/out"
}

for combo in "SMB3_11 sign" "SMB3_11 encrypt" "SMB3_00 encrypt" "SMB2_10 sign"; do
	read -r dialect prot <<<"$combo"
	name="krb-$dialect-$prot.bin"
	rm -f "$work/got"
	if krbc "$KDC_HOST" -m "$dialect" --client-protection="$prot" \
		-c "put $work/data $name; get $name $work/got; del $name" && cmp -s "$work/data" "$work/got"; then
		ok "kerberos $dialect $prot: put/get 1 MiB, bytes equal"
	else
		fail "kerberos $dialect $prot: $(grep -m1 -E 'NT_STATUS_|rror' "$work/out" || tail -n1 "$work/out")"
	fi
done

if krbc "$KDC_OTHER_HOST" -m SMB3_11 -c ls; then
	fail "ticket for cifs/$KDC_OTHER_HOST accepted"
elif grep -q NT_STATUS_LOGON_FAILURE "$work/out"; then
	ok "ticket for cifs/$KDC_OTHER_HOST refused (NT_STATUS_LOGON_FAILURE)"
else
	fail "ticket for cifs/$KDC_OTHER_HOST: unexpected: $(tail -n1 "$work/out")"
fi

rm -f "$work/got"
if timeout "$T" smbclient "//127.0.0.1/$SMB_SHARE" -p "$SMB_PORT" -U "$SMB_USER%$SMB_PASS" --use-kerberos=disabled \
	-m SMB3_11 -c "put $work/data ntlm.bin; get ntlm.bin $work/got; del ntlm.bin" </dev/null >"$work/out" 2>&1 &&
	cmp -s "$work/data" "$work/got"; then
	ok "NTLM on the Kerberos-enabled server: put/get, bytes equal"
else
	fail "NTLM on the Kerberos-enabled server: $(tail -n1 "$work/out")"
fi

export SMB_USER SMB_PASS SMB_SHARE SMB_PORT
if (cd "$REPO_ROOT" && timeout 300 go test -count=1 -run 'TestRealKDC' -v ./krb/) >"$work/go" 2>&1; then
	while read -r line; do ok "go: $line"; done < <(grep -E '^--- PASS' "$work/go" | sed 's/--- PASS: //')
	if grep -q -- '--- SKIP' "$work/go"; then fail "go: real-KDC tests skipped: $(grep -A1 -- '--- SKIP' "$work/go" | tail -n1)"; fi
else
	fail "go real-KDC tests: $(grep -E -- '--- FAIL|_test.go' "$work/go" | head -n 5 | tr '\n' ' ')"
fi

echo "$pass passed, $nfail failed"
[ "$nfail" -eq 0 ]
