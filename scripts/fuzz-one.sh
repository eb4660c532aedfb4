#!/usr/bin/env bash
# Fuzzes one target for FUZZTIME and prints its result in one block, so
# several can run side by side (make fuzz runs two at a time) without
# interleaving their output. Usage: fuzz-one.sh PKG:FuzzName
#
# Go 1.26 can fail a target with a bare "context deadline exceeded" at the
# end of -fuzztime (golang/go#75804, fixed in 1.27). Such a run writes no
# failing input, so it is reported and ignored; a run that writes one fails.
set -u
GO="${GO:-go}"
FUZZTIME="${FUZZTIME:-5s}"
pkg="${1%%:*}"
name="${1##*:}"
corpus="$("$GO" list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$name"
before=$(ls "$corpus" 2>/dev/null | wc -l)
if out=$("$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -parallel 1 "$pkg" 2>&1); then
  printf 'fuzz %s %s\n%s\n' "$pkg" "$name" "$(printf '%s\n' "$out" | tail -n 2)"
  exit 0
fi
after=$(ls "$corpus" 2>/dev/null | wc -l)
if [ "$after" -eq "$before" ] && printf '%s\n' "$out" | grep -q 'context deadline exceeded'; then
  printf 'fuzz %s %s\n%s\nfuzz: %s stopped by the Go fuzztime deadline race (golang/go#75804), no failing input written: ignored\n' "$pkg" "$name" "$out" "$name"
  exit 0
fi
printf 'fuzz %s %s\n%s\nfuzz: %s FAILED; failing input under %s\n' "$pkg" "$name" "$out" "$name" "$corpus"
exit 1
