#!/usr/bin/env bash
# Times the release binary end to end on synthetic Flux repositories of 100, 1,000 and 5,000
# apps (`cargo xtask gen-repo`): median wall time of 5 runs, files/s, MB/s and peak RSS, then
# the per-stage times of one run (`--timings`). Usage: scripts/bench.sh [APPS...], where an
# APPS of the form N-dense is the dense shape (`gen-repo --dense`: one namespace, all Flux
# Kustomizations in one file). Default: 100 1000 5000 5000-dense.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100 1000 5000 5000-dense)
cargo build --release --locked --quiet
bin=target/release/cnpg-lint
printf '%11s %7s %8s %7s %9s %9s %8s %9s\n' apps files docs MB wall_s files/s MB/s rss_MB
for n in "${sizes[@]}"; do
  dir="target/bench-repos/apps-$n"
  if [[ $n == *-dense ]]; then gen=(--apps "${n%-dense}" --dense); else gen=(--apps "$n"); fi
  [ -f "$dir/.cnpg-lint.yaml" ] || cargo xtask gen-repo "${gen[@]}" >/dev/null
  files=$(find "$dir" -type f -name '*.yaml' | wc -l)
  bytes=$(find "$dir" -type f -name '*.yaml' -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
  docs=$(grep -rh '^apiVersion:' "$dir" | wc -l)
  $bin check --format concise "$dir" >/dev/null || true  # warm the page cache
  runs=()
  rss=0
  for _ in 1 2 3 4 5; do
    out=$( { /usr/bin/time -f '%e %M' $bin check --format concise "$dir" >/dev/null; } 2>&1 | tail -1 )
    runs+=("${out% *}")
    r=${out#* }; [ "$r" -gt "$rss" ] && rss=$r
  done
  wall=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p)
  awk -v n="$n" -v f="$files" -v d="$docs" -v b="$bytes" -v w="$wall" -v r="$rss" 'BEGIN {
    printf "%11s %7d %8d %7.1f %9.3f %9.0f %8.1f %9.1f\n", n, f, d, b/1e6, w, f/w, b/1e6/w, r/1024 }'
done
# Per-stage times for the largest repositories (N >= 5000), or the last one given.
for n in "${sizes[@]}"; do
  if [ "${n%-dense}" -ge 5000 ] || [ "$n" = "${sizes[-1]}" ]; then
    echo
    echo "stages, $n apps:"
    $bin check --timings --format concise "target/bench-repos/apps-$n" 2>&1 >/dev/null | sed 's/^/  /'
  fi
done
