#!/bin/bash
# Release-build throughput of cross_entropy and nll (workloads W7-W10, see
# scripts/bench-class.swift). `scripts/bench-class.sh native [args]` builds for the host
# CPU (-target-cpu native, in .build-native) instead of the default x86-64 target.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build; cpu=()
if [ "${1:-}" = native ]; then
    shift; scratch=.build-native; cpu=(-target-cpu native)
    swift build -c release --target FastLosses --scratch-path "$scratch" -Xswiftc -target-cpu -Xswiftc native >/dev/null
else
    swift build -c release --target FastLosses --scratch-path "$scratch" >/dev/null
fi
release="$scratch/release"
out="$scratch/bench-class"
swiftc -O "${cpu[@]}" -I "$release/Modules" scripts/bench-class.swift \
    "$release"/FastLosses.build/*.o "$release"/Losses.build/*.o -o "$out"
"$out" "$@"
