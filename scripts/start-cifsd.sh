#!/usr/bin/env bash
# Build ./cmd/cifsd and start it in the background on 127.0.0.1 (a free port,
# 4451 if free; or CIFSD_PORT) with share $SMB_SHARE (default "share") in a temp
# dir (or the dir given as $1) and user tester:testpass. Prints shell lines to
# eval; stop it with: scripts/stop-cifsd.sh (after the eval).
#   eval "$(scripts/start-cifsd.sh)"; ...; scripts/stop-cifsd.sh
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
start_cifsd "${1:-}"
# the daemon outlives this script: don't let the shell wait for it
disown "$CIFSD_PID" 2>/dev/null || true
printf 'export CIFSD_PID=%q CIFSD_PORT=%q CIFSD_DIR=%q CIFSD_SHARE_DIR=%q\n' \
	"$CIFSD_PID" "$CIFSD_PORT" "$CIFSD_DIR" "$CIFSD_SHARE_DIR"
printf 'export SMB_HOST=127.0.0.1 SMB_PORT=%q SMB_SHARE=%q SMB_USER=%q SMB_PASS=%q\n' \
	"$CIFSD_PORT" "$SMB_SHARE" "$SMB_USER" "$SMB_PASS"
