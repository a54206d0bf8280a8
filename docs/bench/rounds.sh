#!/usr/bin/env bash
# docs/performance.md: rounds of the peer script's three engines and tq bench (twice: trials
# side by side on every core, and one trial at a time), in turn. Usage: rounds.sh [ROUNDS]
# Needs python3 with numpy and torch, and `cargo build --release` done. PEER overrides the
# folder of peer_resnet_mc.py (default: bench/peer in the repository).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PEER=${PEER:-$ROOT/bench/peer}
TQ=$ROOT/target/release/tq
for r in $(seq 1 "${1:-3}"); do
  echo "round $r load $(cut -d' ' -f1 /proc/loadavg) $(date -u +%H:%M:%S)"
  for engine in numpy torch torch64; do
    python3 "$PEER/peer_resnet_mc.py" "$engine" 3
  done
  (cd "$ROOT" && "$TQ" bench --trials 4)
  (cd "$ROOT" && "$TQ" bench --trials 4 --threads 1)
done
