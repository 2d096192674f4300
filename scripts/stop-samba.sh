#!/usr/bin/env bash
# Stop an smbd started by scripts/start-samba.sh: uses SAMBA_PID,
# SAMBA_DCERPCD_PID and SAMBA_DIR from the environment.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
[ -n "${SAMBA_PID:-}" ] || die "SAMBA_PID not set"
stop_samba
