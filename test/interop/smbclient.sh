#!/usr/bin/env bash
# Interop with Samba's smbclient against a running SMB server.
# Target: SMB_HOST SMB_PORT SMB_SHARE SMB_USER SMB_PASS (see scripts/lib.sh).
# For each dialect in SMBCLIENT_DIALECTS: mkdir, put a random 3 MiB file and a
# small one, ls, rename, get + cmp, del, rmdir; then the share listing (-L) and
# a wrong password. Extra passes: SMBCLIENT_PROTECTIONS="sign encrypt" repeats
# the file round trip on SMB3_11 with --client-protection=MODE.
# Prints ok:/FAIL: per check and "N passed, M failed"; exits non-zero on a failure.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

: "${SMB_PORT:?set SMB_PORT (and SMB_HOST SMB_SHARE SMB_USER SMB_PASS)}"
DIALECTS=${SMBCLIENT_DIALECTS:-SMB2_02 SMB2_10 SMB3_00 SMB3_02 SMB3_11}
PROTECTIONS=${SMBCLIENT_PROTECTIONS:-}
T=${SMBCLIENT_TIMEOUT:-60}

work=$(mktemp -d /tmp/smbclient-interop.XXXXXX)
trap 'rm -rf "$work"' EXIT

head -c $((3 * 1024 * 1024)) /dev/urandom >"$work/big"
printf 'hello from cifsd interop %s\n' "$$" >"$work/small"

# smbc OUT ARGS...: run smbclient on the share, output in $OUT; fails when
# smbclient exits non-zero or prints an NT_STATUS error (smbclient -c only
# reports the last command's status in its exit code).
smbc() {
	local out=$1 rc=0
	shift
	timeout "$T" smbclient "//$SMB_HOST/$SMB_SHARE" -p "$SMB_PORT" \
		-U "$SMB_USER%$SMB_PASS" "$@" >"$out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] && ! grep -q 'NT_STATUS_' "$out"
}

# check NAME ARGS...: one ok/FAIL line for an smbclient call.
check() {
	local name=$1
	shift
	if smbc "$work/out" "$@"; then
		ok "$name"
	else
		fail "$name: $(grep -m1 -E 'NT_STATUS_|rror' "$work/out" || tail -n1 "$work/out")"
		return 1
	fi
}

# roundtrip LABEL SMBCLIENT-ARGS...: the whole file cycle in a fresh directory.
roundtrip() {
	local label=$1
	shift
	local d="itest_${label//[^A-Za-z0-9]/_}_$$"
	rm -f "$work/big.got" "$work/small.got"
	check "$label mkdir $d" "$@" -c "mkdir $d" || return 0
	check "$label put 3 MiB + small file" "$@" -D "$d" \
		-c "put $work/big big.bin; put $work/small small.txt" || true
	if smbc "$work/out" "$@" -D "$d" -c "ls"; then
		if grep -Eq '^ +big\.bin +[A-Z]* +3145728 ' "$work/out" && grep -q ' small\.txt ' "$work/out"; then
			ok "$label ls shows big.bin (3145728 bytes) and small.txt"
		else
			fail "$label ls: names or size missing: $(tr -s ' \n' ' ' <"$work/out" | head -c 300)"
		fi
	else
		fail "$label ls: $(grep -m1 NT_STATUS_ "$work/out" || tail -n1 "$work/out")"
	fi
	check "$label rename big.bin -> renamed.bin" "$@" -D "$d" -c "rename big.bin renamed.bin" || true
	check "$label hardlink small.txt -> linked.txt" "$@" -D "$d" -c "hardlink small.txt linked.txt" || true
	rm -f "$work/linked.got"
	if check "$label get the files" "$@" -D "$d" \
		-c "get renamed.bin $work/big.got; get small.txt $work/small.got; get linked.txt $work/linked.got"; then
		if cmp -s "$work/big" "$work/big.got" && cmp -s "$work/small" "$work/small.got" &&
			cmp -s "$work/small" "$work/linked.got"; then
			ok "$label bytes read back equal bytes written"
		else
			fail "$label bytes read back differ from bytes written"
		fi
	fi
	check "$label del the files" "$@" -D "$d" -c "del renamed.bin; del small.txt; del linked.txt" || true
	check "$label rmdir $d" "$@" -c "rmdir $d" || true
	if smbc "$work/out" "$@" -c "ls"; then
		if grep -q " $d " "$work/out"; then
			fail "$label $d still listed after rmdir"
		else
			ok "$label $d gone after rmdir"
		fi
	else
		fail "$label ls after rmdir: $(grep -m1 NT_STATUS_ "$work/out" || tail -n1 "$work/out")"
	fi
}

for m in $DIALECTS; do
	roundtrip "$m" -m "$m"
done
for p in $PROTECTIONS; do
	for d in SMB3_00 SMB3_02 SMB3_11; do
		roundtrip "$d+$p" -m "$d" "--client-protection=$p"
	done
done

# share listing (needs srvsvc over IPC$)
rc=0
timeout "$T" smbclient -L "$SMB_HOST" -p "$SMB_PORT" -U "$SMB_USER%$SMB_PASS" \
	-m SMB3_11 >"$work/out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -Eq "^[[:space:]]+${SMB_SHARE}[[:space:]]+Disk" "$work/out"; then
	ok "smbclient -L lists share $SMB_SHARE"
else
	fail "smbclient -L (exit $rc): $(tr -s ' \n\t' ' ' <"$work/out" | head -c 300)"
fi

# a wrong password is refused
rc=0
timeout "$T" smbclient "//$SMB_HOST/$SMB_SHARE" -p "$SMB_PORT" -U "$SMB_USER%wrong-$SMB_PASS" \
	-m SMB3_11 -c ls >"$work/out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && grep -q NT_STATUS_LOGON_FAILURE "$work/out"; then
	ok "wrong password refused with NT_STATUS_LOGON_FAILURE"
else
	fail "wrong password (exit $rc): $(tr -s ' \n' ' ' <"$work/out" | head -c 300)"
fi

summary
