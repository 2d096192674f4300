#!/usr/bin/env bash
# Stop a cifsd started by scripts/start-cifsd.sh: uses CIFSD_PID and CIFSD_DIR
# from the environment (or arguments: PID DIR).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
CIFSD_PID=${1:-${CIFSD_PID:-}} CIFSD_DIR=${2:-${CIFSD_DIR:-}}
[ -n "$CIFSD_PID" ] || die "CIFSD_PID not set"
stop_cifsd
