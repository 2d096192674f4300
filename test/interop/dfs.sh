#!/usr/bin/env bash
# DFS (MS-DFSC), a standalone namespace across two cifsd servers: one
# serves [dfsroot] with "msdfs root = yes", whose folder "link" is a
# symbolic link to msdfs:OTHER\data, Samba's form; the other serves [data].
# smbclient, connected to the root, reads a file through the link: it gets
# STATUS_PATH_NOT_COVERED, asks for a referral and follows it to the other
# server. smbclient dials a referral's target on port 445 whatever -p
# says, so the target listens on 445 of a loopback address of its own
# (127.0.0.0/8 is all loopback; binding 445 needs root: skipped otherwise).
# CIFSD_BIN names a prebuilt binary; otherwise ./cmd/cifsd is built.
# Prints ok:/FAIL: per check and "N passed, M failed".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

T=${SMBCLIENT_TIMEOUT:-60}
work=$(mktemp -d /tmp/dfs-interop.XXXXXX)
rootpid='' targetpid=''
trap '[ -n "$rootpid" ] && kill_wait "$rootpid"; [ -n "$targetpid" ] && kill_wait "$targetpid"; rm -rf "$work"' EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "dfs: skipped: binding port 445 (where smbclient follows referrals) needs root"
	summary
	exit 0
fi
if [ -n "${CIFSD_BIN:-}" ]; then
	cp "$CIFSD_BIN" "$work/cifsd"
else
	(cd "$REPO_ROOT" && timeout 600 go build -o "$work/cifsd" ./cmd/cifsd) || die "build failed"
fi
cifsd=$work/cifsd
mkdir -p "$work/root/dir" "$work/data/sub"
echo "through the link $$" >"$work/data/file.txt"
echo "deeper $$" >"$work/data/sub/deep.txt"
echo "local $$" >"$work/root/local.txt"

# addr_free ADDR PORT: nobody accepts on ADDR:PORT.
addr_free() { ! timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# conf FILE ADDR PORT SECTION: a server on ADDR:PORT with one share.
conf() {
	cat >"$1" <<EOF2
[global]
	netbios name = DFS$RANDOM
	interfaces = $2
	bind interfaces only = yes
	smb ports = $3
	server signing = auto
	smb passwd file = $work/pwd.db
$4
EOF2
}

# start CONF LOG ADDR PORT: start a cifsd; its pid in $started_pid.
start() {
	"$cifsd" -config "$1" >"$2" 2>&1 &
	started_pid=$!
	for ((i = 0; i < 300; i++)); do
		timeout 2 bash -c "exec 3<>/dev/tcp/$3/$4" 2>/dev/null && return 0
		kill -0 "$started_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Two loopback addresses of our own, each with 445 free: the target
# listens on 445, the root on a free port and on 445 (smbclient asks the
# root's IPC$ for the referral on 445 too).
# addr445: a random 127.x.y.z whose port 445 nobody accepts on.
addr445() {
	local a n
	for ((n = 0; n < 20; n++)); do
		a=127.$((RANDOM % 200 + 40)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
		addr_free "$a" 445 && { echo "$a"; return 0; }
	done
	die "no free loopback address for port 445"
}
target=$(addr445)
root=$(addr445)
port=$(free_port)
conf "$work/target.conf" "$target" 445 "[data]
	path = $work/data
	read only = yes"
conf "$work/root.conf" "$root" "$port 445" "[dfsroot]
	path = $work/root
	read only = no
	msdfs root = yes"
printf 'alicepw\n' | timeout 30 "$cifsd" user add -config "$work/root.conf" -stdin alice >/dev/null 2>&1 ||
	die "cifsd user add failed"
ln -s "msdfs:$target\\data" "$work/root/link"
ln -s "msdfs:$target\\data\\sub" "$work/root/dir/deeplink"
ln -s "msdfs:$target\\data,127.0.0.1\\nosuch" "$work/root/two"

if start "$work/target.conf" "$work/target.log" "$target" 445; then
	targetpid=$started_pid
	ok "target cifsd on $target:445"
else
	fail "target cifsd did not start: $(tail -n 3 "$work/target.log" | tr '\n' ' ')"
	summary
	exit 1
fi
if start "$work/root.conf" "$work/root.log" "$root" "$port"; then
	rootpid=$started_pid
	ok "DFS root cifsd on $root:$port"
else
	fail "root cifsd did not start: $(tail -n 3 "$work/root.log" | tr '\n' ' ')"
	summary
	exit 1
fi
if timeout 30 "$cifsd" config check "$work/root.conf" 2>&1 | grep -q 'msdfs root = Yes'; then
	ok "cifsd config check shows msdfs root"
else
	fail "cifsd config check: msdfs root not shown"
fi

# smbc CMD: smbclient on the root as alice; output in $work/out.
smbc() {
	local rc=0
	timeout "$T" smbclient "//$root/dfsroot" -p "$port" -U alice%alicepw -m SMB3_11 -c "$*" >"$work/out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] && ! grep -q 'NT_STATUS_' "$work/out"
}
why() { grep -m1 -o 'NT_STATUS_[A-Z_]*' "$work/out" || tail -n1 "$work/out"; }

if smbc "get link\\file.txt $work/got.txt" && cmp -s "$work/got.txt" "$work/data/file.txt"; then
	ok "smbclient reads link\\file.txt from the other server through the referral"
else
	fail "get link\\file.txt: $(why)"
fi
if smbc "get dir\\deeplink\\deep.txt $work/deep.txt" && cmp -s "$work/deep.txt" "$work/data/sub/deep.txt"; then
	ok "a link below a folder, to a path below a share"
else
	fail "get dir\\deeplink\\deep.txt: $(why)"
fi
if smbc "get two\\file.txt $work/two.txt" && cmp -s "$work/two.txt" "$work/data/file.txt"; then
	ok "a link with two targets (smbclient takes the first)"
else
	fail "get two\\file.txt: $(why)"
fi
if smbc "ls link\\*" && grep -q ' file.txt ' "$work/out"; then
	ok "ls through the link lists the target's share"
else
	fail "ls link\\*: $(why)"
fi
if smbc "get local.txt $work/local.txt" && cmp -s "$work/local.txt" "$work/root/local.txt"; then
	ok "files of the root itself are served"
else
	fail "get local.txt: $(why)"
fi
# The root is a share like any other: smbclient sends DFS path names
# (SMB2_FLAGS_DFS_OPERATIONS) to a DFS root for everything it does.
if smbc "put $work/got.txt up.txt; rename up.txt moved.txt; mkdir newdir; put $work/got.txt newdir\\in.txt" &&
	cmp -s "$work/got.txt" "$work/root/moved.txt" && [ ! -e "$work/root/up.txt" ] &&
	cmp -s "$work/got.txt" "$work/root/newdir/in.txt"; then
	ok "put, rename and mkdir on the root land where they name"
else
	fail "put/rename/mkdir on the root: $(why); $(ls "$work/root" | tr '\n' ' ')"
fi
if smbc "del moved.txt; del newdir\\in.txt; rmdir newdir" && [ ! -e "$work/root/moved.txt" ] && [ ! -e "$work/root/newdir" ]; then
	ok "del and rmdir on the root"
else
	fail "del/rmdir on the root: $(why)"
fi
if smbc "ls" && grep -Eq '^ +link +Dr ' "$work/out"; then
	ok "the root lists the link as a directory that is a reparse point (Dr, as Samba)"
else
	fail "ls of the root: $(grep link "$work/out" || why)"
fi
summary
