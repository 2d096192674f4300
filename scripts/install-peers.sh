#!/usr/bin/env bash
# Install the real SMB peers the interop tests, conformance runs and benchmarks
# use (Debian packages): smbclient, smbd + samba-dcerpcd, smbtorture, impacket
# for Debian's /usr/bin/python3, and the MIT Kerberos KDC and client tools.
# Idempotent: returns at once when everything is already there.
set -euo pipefail

PKGS=(smbclient samba samba-testsuite python3-impacket krb5-kdc krb5-admin-server krb5-user)

missing() {
	local c
	for c in smbclient smbtorture smbd smbpasswd kinit krb5kdc kadmin.local kdb5_util; do
		command -v "$c" >/dev/null 2>&1 || { echo "$c"; return 0; }
	done
	[ -x /usr/libexec/samba/samba-dcerpcd ] || { echo samba-dcerpcd; return 0; }
	if ! timeout 30 /usr/bin/python3 -c 'import impacket.smbconnection' 2>/dev/null; then
		echo impacket
		return 0
	fi
	return 1
}

if ! what=$(missing); then
	exit 0
fi
echo "install-peers: $what is missing; installing ${PKGS[*]}" >&2
[ "$(id -u)" -eq 0 ] || { echo "install-peers: must run as root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
timeout 600 apt-get -o DPkg::Lock::Timeout=300 update -q >&2
timeout 1200 apt-get -o DPkg::Lock::Timeout=300 install -y -q "${PKGS[@]}" >&2
if what=$(missing); then
	echo "install-peers: $what still missing after install" >&2
	exit 1
fi
echo "install-peers: done" >&2
