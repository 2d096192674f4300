#!/usr/bin/env bash
# Start Samba's smbd (and samba-dcerpcd) as the reference server, per
# shared/REFERENCE-PEERS.md: 127.0.0.1, a free port (4452 if free; or
# SAMBA_PORT), share $SMB_SHARE in a temp dir (or the dir given as $1), Unix +
# Samba user tester:testpass. Must run as root. Prints shell lines to eval:
#   eval "$(scripts/start-samba.sh /dev/shm/bench)"; ...; scripts/stop-samba.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
start_samba "${1:-}"
disown "$SAMBA_PID" "$SAMBA_DCERPCD_PID" 2>/dev/null || true
printf 'export SAMBA_PID=%q SAMBA_DCERPCD_PID=%q SAMBA_PORT=%q SAMBA_DIR=%q SAMBA_SHARE_DIR=%q\n' \
	"$SAMBA_PID" "$SAMBA_DCERPCD_PID" "$SAMBA_PORT" "$SAMBA_DIR" "$SAMBA_SHARE_DIR"
printf 'export SMB_HOST=127.0.0.1 SMB_PORT=%q SMB_SHARE=%q SMB_USER=%q SMB_PASS=%q\n' \
	"$SAMBA_PORT" "$SMB_SHARE" "$SMB_USER" "$SMB_PASS"
