#!/usr/bin/env bash
# Checks that two builds print the same thing: JSON on every fixture repository, every rule
# fixture (each file and directory) and every ../shared/corpus repository, plus SARIF and concise
# output on the repositories. Exit 0 and "IDENTICAL n files" when every output is byte-identical.
#
#   scripts/same-output.sh OLD_BINARY NEW_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1"); new=$(realpath "$2")
out=$(mktemp -d)
capture() {
  set +e
  local bin=$1 dir=$2; mkdir -p "$dir"
  for d in fixtures/repos/*/ fixtures/rules/*/*/ ../shared/corpus/*/; do
    [ -d "$d" ] || continue
    n=$(echo "$d" | tr '/' '_')
    (cd "$d" && { "$bin" check --format json .; echo "exit $?"; } >"$dir/$n.json" 2>"$dir/$n.err")
  done
  for d in fixtures/repos/*/ ../shared/corpus/*/; do
    [ -d "$d" ] || continue
    n=$(echo "$d" | tr '/' '_')
    (cd "$d" || exit
      { "$bin" check --format sarif .; echo "exit $?"; } >"$dir/$n.sarif" 2>/dev/null
      { "$bin" check --format concise .; echo "exit $?"; } >"$dir/$n.concise" 2>&1)
  done
  for f in fixtures/rules/*/*; do
    [ -f "$f" ] || continue
    n=$(echo "$f" | tr '/' '_')
    { "$bin" check --format json "$f"; echo "exit $?"; } >"$dir/$n.json" 2>&1
  done
}
capture "$old" "$out/old"
capture "$new" "$out/new"
if diff -rq "$out/old" "$out/new"; then
  echo "IDENTICAL $(ls -A "$out/new" | wc -l) files"
  rm -rf "$out"
else
  echo "outputs differ; both kept in $out" >&2
  exit 1
fi
