#!/usr/bin/env bash
# cifsd configured by a file (`cifsd -config`), with users made by
# `cifsd user add -stdin`, checked with smbclient against what Samba does
# with the same options; the same file is run through Samba's testparm.
#   read only refuses writes (a write list user may write);
#   valid users refuses other users;
#   browseable = no hides a share from smbclient -L, reachable by name;
#   veto files are neither listed nor opened nor creatable;
#   hide dot files lists dot files with the hidden attribute;
#   flags (-listen, -read-only) override the file.
# Starts and stops its own cifsd on a free loopback port. CIFSD_BIN names a
# prebuilt binary; otherwise ./cmd/cifsd is built.
# Prints ok:/FAIL: per check and "N passed, M failed".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

T=${SMBCLIENT_TIMEOUT:-60}
work=$(mktemp -d /tmp/config-interop.XXXXXX)
pid=''
trap '[ -n "$pid" ] && kill_wait "$pid"; rm -rf "$work"' EXIT

if [ -n "${CIFSD_BIN:-}" ]; then
	cp "$CIFSD_BIN" "$work/cifsd"
else
	(cd "$REPO_ROOT" && timeout 600 go build -o "$work/cifsd" ./cmd/cifsd) || die "build failed"
fi
cifsd=$work/cifsd
mkdir -p "$work"/{pub,ro,priv,hidden,veto/secret}
echo kept >"$work/veto/ok.txt"
echo vetoed >"$work/veto/junk.tmp"
echo dot >"$work/veto/.profile"

# write_conf PORT: the configuration, serving on 127.0.0.1:PORT.
write_conf() {
	local port=$1
	cat >"$work/smb.conf" <<EOF2
# cifsd interop configuration: Samba's testparm must accept it too.
[global]
	netbios name = CIFSDTEST
	server string = cifsd config interop
	workgroup = WORKGROUP
	interfaces = 127.0.0.1
	bind interfaces only = yes
	smb ports = $port
	server min protocol = SMB2_02
	server signing = auto
	map to guest = never
	smb passwd file = $work/cifsdpwd.db
	cifsd:group file = $work/group
	log level = 1

[pub]
	path = $work/pub
	comment = writable by every user
	read only = no

[ro]
	path = $work/ro
	read only = yes
	write list = @writers

[priv]
	path = $work/priv
	read only = no
	valid users = alice

[hidden]
	path = $work/hidden
	read only = no
	browseable = no

[veto]
	path = $work/veto
	read only = no
	veto files = /*.tmp/secret/
	hide dot files = yes
EOF2
}
port=$(free_port)
write_conf "$port"
echo "writers:x:2000:bob" >"$work/group"

# Users through the database, as an operator makes them.
for u in alice bob; do
	if printf '%s\n' "${u}pw" | timeout 30 "$cifsd" user add -config "$work/smb.conf" -stdin "$u" 2>>"$work/user.log"; then
		ok "cifsd user add -stdin $u"
	else
		fail "cifsd user add $u: $(tail -n1 "$work/user.log")"
	fi
done
if grep -q 'alicepw\|bobpw' "$work/cifsdpwd.db"; then fail "user database holds a password in clear"; else ok "no password in clear in the database"; fi
if [ "$(timeout 30 "$cifsd" user list -config "$work/smb.conf")" = "$(printf 'alice\nbob')" ]; then
	ok "cifsd user list"
else
	fail "cifsd user list"
fi

# Samba's testparm accepts the same file.
if command -v testparm >/dev/null; then
	rc=0
	timeout 60 testparm -s "$work/smb.conf" >"$work/testparm.out" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ] && ! grep -Eiq 'unknown parameter|error' "$work/testparm.out"; then
		ok "testparm -s accepts the configuration"
	else
		fail "testparm -s (exit $rc): $(grep -Ei 'unknown|error' "$work/testparm.out" | head -n3 | tr '\n' ' ')"
	fi
else
	fail "testparm not installed (scripts/install-peers.sh)"
fi
if timeout 30 "$cifsd" config check "$work/smb.conf" >"$work/check.out" 2>"$work/check.err" &&
	grep -q '^\[veto\]' "$work/check.out" && ! grep -q warning "$work/check.err"; then
	ok "cifsd config check: no warnings, every share printed"
else
	fail "cifsd config check: $(cat "$work/check.err")"
fi

# A port free when picked may be taken before cifsd binds it (the machine
# is shared): pick another a few times.
started=''
for attempt in 1 2 3 4 5; do
	"$cifsd" -config "$work/smb.conf" -signing enabled >"$work/cifsd.log" 2>&1 &
	pid=$!
	if wait_port "$port" "$pid" 30; then
		started=yes
		break
	fi
	kill_wait "$pid"
	pid=''
	grep -q 'address already in use' "$work/cifsd.log" || break
	log "config: port $port taken (attempt $attempt); another"
	port=$(free_port)
	write_conf "$port"
done
if [ -z "$started" ]; then
	fail "cifsd -config did not start: $(tail -n 5 "$work/cifsd.log" | tr '\n' ' ')"
	summary
	exit 1
fi
ok "cifsd -config listens on 127.0.0.1:$port"

# smbc USER SHARE CMD: run smbclient; output in $work/out; succeeds when
# smbclient exits 0 and reports no NT_STATUS error.
smbc() {
	local user=$1 share=$2 rc=0
	shift 2
	timeout "$T" smbclient "//127.0.0.1/$share" -p "$port" -U "$user%${user}pw" -m SMB3_11 \
		-c "$*" >"$work/out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] && ! grep -q 'NT_STATUS_' "$work/out"
}
why() { grep -m1 -o 'NT_STATUS_[A-Z_]*' "$work/out" || tail -n1 "$work/out"; }
echo "payload $$" >"$work/payload"

# read only
if smbc alice ro "put $work/payload a.txt"; then fail "read only: alice wrote on [ro]"; else ok "read only: alice's write refused ($(why))"; fi
if [ ! -e "$work/ro/a.txt" ]; then ok "read only: nothing created on disk"; else fail "read only: a.txt on disk"; fi
if smbc bob ro "put $work/payload b.txt" && [ -f "$work/ro/b.txt" ]; then ok "write list @writers: bob writes on [ro]"; else fail "write list: bob: $(why)"; fi
if smbc alice pub "put $work/payload a.txt" && cmp -s "$work/payload" "$work/pub/a.txt"; then ok "[pub]: alice writes"; else fail "[pub]: $(why)"; fi

# valid users
if smbc bob priv "ls"; then fail "valid users: bob admitted to [priv]"; else ok "valid users: bob refused ($(why))"; fi
if smbc alice priv "ls"; then ok "valid users: alice admitted"; else fail "valid users: alice: $(why)"; fi

# browseable
rc=0
timeout "$T" smbclient -L 127.0.0.1 -p "$port" -U "alice%alicepw" -m SMB3_11 >"$work/out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ] && grep -Eq '^\s+pub\s+Disk' "$work/out" && ! grep -Eq '^\s+hidden\s' "$work/out"; then
	ok "browseable = no: smbclient -L lists pub, not hidden"
else
	fail "smbclient -L (exit $rc): $(tr -s ' \n\t' ' ' <"$work/out" | head -c 300)"
fi
if smbc alice hidden "put $work/payload h.txt; ls" && grep -q ' h.txt ' "$work/out"; then
	ok "browseable = no: [hidden] reachable by name"
else
	fail "[hidden] by name: $(why)"
fi

# veto files, hide dot files
if smbc alice veto "ls"; then
	if grep -q ' ok.txt ' "$work/out" && ! grep -Eq ' (junk\.tmp|secret) ' "$work/out"; then
		ok "veto files: not listed (ok.txt is)"
	else
		fail "veto files listed: $(tr -s ' \n' ' ' <"$work/out" | head -c 300)"
	fi
	if grep -Eq '^ +\.profile +A?H' "$work/out"; then
		ok "hide dot files: .profile listed hidden"
	else
		fail "hide dot files: $(grep profile "$work/out" || echo 'not listed')"
	fi
else
	fail "ls on [veto]: $(why)"
fi
# refused_as_samba NAME SMBCLIENT-CMD: the command fails with Samba's
# answer to a vetoed name, OBJECT_NAME_NOT_FOUND (checked against smbd
# with the same share options).
refused_as_samba() {
	local name=$1
	shift
	if smbc alice veto "$*"; then
		fail "veto files: $name succeeded"
	elif [ "$(why)" = NT_STATUS_OBJECT_NAME_NOT_FOUND ]; then
		ok "veto files: $name refused with NT_STATUS_OBJECT_NAME_NOT_FOUND"
	else
		fail "veto files: $name refused with $(why), Samba answers NT_STATUS_OBJECT_NAME_NOT_FOUND"
	fi
}
refused_as_samba "get junk.tmp" "get junk.tmp $work/got"
refused_as_samba "put new.tmp" "put $work/payload new.tmp"
if [ ! -e "$work/veto/new.tmp" ]; then ok "veto files: nothing created on disk"; else fail "veto files: new.tmp on disk"; fi
refused_as_samba "cd secret" "cd secret"
refused_as_samba "rename to x.tmp" "rename ok.txt x.tmp"
if [ -f "$work/veto/ok.txt" ]; then ok "veto files: ok.txt not renamed"; else fail "veto files: ok.txt renamed"; fi

kill_wait "$pid"
pid=''

# Flags override the file: -listen replaces its address, -read-only makes
# its writable share read-only.
port2=$(free_port)
"$cifsd" -config "$work/smb.conf" -signing enabled -listen "127.0.0.1:$port2" -read-only >"$work/cifsd2.log" 2>&1 &
pid=$!
if wait_port "$port2" "$pid" 30; then
	ok "-listen overrides the file's address"
	port=$port2
	if smbc alice pub "put $work/payload flag.txt"; then fail "-read-only: alice wrote on [pub]"; else ok "-read-only overrides read only = no ($(why))"; fi
else
	fail "cifsd -config -listen did not start: $(tail -n 3 "$work/cifsd2.log" | tr '\n' ' ')"
fi
kill_wait "$pid"
pid=''
summary
