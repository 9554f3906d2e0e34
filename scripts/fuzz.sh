#!/usr/bin/env bash
# Runs the cargo-fuzz targets, seeded from the fixtures. Needs a nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz`). Usage: scripts/fuzz.sh [SECONDS per target] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(yaml_load pipeline)
for t in "${targets[@]}"; do
  seeds="fuzz/corpus/$t"
  mkdir -p "$seeds"
  # Seeds: every YAML fixture, each file as one input.
  find fixtures rules -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.md' \) -size -64k |
    while read -r f; do cp "$f" "$seeds/seed-$(echo "$f" | tr '/' '_')"; done
  cargo +nightly fuzz run "$t" "$seeds" -- -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096
done
