#!/usr/bin/env bash
# smbtorture with Kerberos (--use-kerberos=required) against a running cifsd
# started with -keytab $KDC_KEYTAB, in the realm of scripts/kdc.sh.
#   test/interop/smbtorture-kerberos.sh LISTFILE
# smbtorture has no -I: it must resolve $KDC_HOST itself, so it runs in a
# private mount namespace whose /etc/hosts maps the realm's host names to
# 127.0.0.1 (the machine's own /etc/hosts is untouched). Needs root.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

: "${SMB_PORT:?}" "${KDC_DIR:?start_kdc first}" "${KDC_HOST:?}" "${KDC_REALM:?}"
[ $# -eq 1 ] || die "usage: $0 LISTFILE"
hosts=$KDC_DIR/hosts
printf '127.0.0.1 localhost\n127.0.0.1 %s %s\n' "$KDC_HOST" "$KDC_OTHER_HOST" >"$hosts"
export SMB_HOST=$KDC_HOST SMB_USER=$SMB_USER@$KDC_REALM
export TORTURE_OPTS="${TORTURE_OPTS:-} --use-kerberos=required"
# shellcheck disable=SC2016 # expanded by the inner shell
exec unshare -m bash -c 'mount --bind "$1" /etc/hosts && exec "$2" "$3"' _ \
	"$hosts" "$REPO_ROOT/test/interop/smbtorture.sh" "$1"
