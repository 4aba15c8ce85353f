#!/bin/bash
# Release-build throughput of the fast engine (mse over buffers, 1 and 2 threads) next
# to a plain three-stream loop. `scripts/bench-fast.sh native [args]` builds for the host
# CPU (-target-cpu native, in .build-native) instead of the default x86-64 target.
# Arguments after the optional `native`: n, repetitions, comma-separated thread counts.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build; cpu=()
if [ "${1:-}" = native ]; then
    shift; scratch=.build-native; cpu=(-target-cpu native)
    swift build -c release --scratch-path "$scratch" -Xswiftc -target-cpu -Xswiftc native >/dev/null
else
    swift build -c release --scratch-path "$scratch" >/dev/null
fi
release="$scratch/release"
out="$scratch/bench-fast"
swiftc -O "${cpu[@]}" -I "$release/Modules" scripts/bench-fast.swift \
    "$release"/FastLosses.build/*.o "$release"/Losses.build/*.o -o "$out"
"$out" "$@"
