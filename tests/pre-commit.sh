#!/usr/bin/env bash
# What a new user does: a scratch Git repository with a bad CloudNativePG manifest, the hook from
# the README, and `pre-commit try-repo`. It must fail with the finding, then pass once the file is
# fixed. Needs pre-commit (PyPI) and cargo; pre-commit builds the hook from this checkout.
set -euo pipefail

project=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v pre-commit >/dev/null 2>&1; then
  echo "pre-commit is not installed: pip install pre-commit" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PRE_COMMIT_HOME="$work/cache"
repo="$work/gitops"
mkdir -p "$repo/apps/db"
cd "$repo"
git init -q
git config user.email ci@example.invalid
git config user.name ci

cat > apps/db/cluster.yaml <<'YAML'
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: pg
  namespace: db
spec:
  instances: 3
  storage:
    size: 10Gi
  plugins:
    - name: barman-cloud.cloudnative-pg.io
      isWALArchiver: true
      parameters:
        barmanObjectName: pg-store
---
apiVersion: barmancloud.cnpg.io/v1
kind: ObjectStore
metadata:
  name: pg-store
  namespace: db
spec:
  configuration:
    destinationPath: s3://backups/pg
    s3Credentials:
      inheritFromIAMRole: true
YAML

# The README's snippet, pointed at this checkout instead of the published repository.
snippet=$(sed -n '/<!-- pre-commit:start -->/,/<!-- pre-commit:end -->/p' "$project/README.md" | sed '1,2d;$d' | sed '$d')
rev=$(git -C "$project" rev-parse HEAD)
printf '%s\n' "$snippet" \
  | sed "s|repo: https://github.com/cnpg-lint/cnpg-lint|repo: $project|; s|rev: v0.1.0|rev: $rev|" \
  > .pre-commit-config.yaml
cat .pre-commit-config.yaml
git add -A
git commit -qm "bad manifest"

echo "== try-repo on the bad manifest: must fail with CNPG101"
set +e
out=$(pre-commit try-repo "$project" cnpg-lint --all-files 2>&1)
status=$?
set -e
echo "$out"
if [ "$status" -eq 0 ]; then
  echo "FAIL: the hook passed on a bad manifest" >&2
  exit 1
fi
grep -q "CNPG101" <<< "$out" || { echo "FAIL: no CNPG101 in the hook output" >&2; exit 1; }
grep -q "apps/db/cluster.yaml:23" <<< "$out" || { echo "FAIL: finding not located" >&2; exit 1; }

echo "== the README's configuration: must fail the same way"
set +e
out=$(pre-commit run --all-files 2>&1)
status=$?
set -e
echo "$out"
[ "$status" -ne 0 ] || { echo "FAIL: pre-commit run passed on a bad manifest" >&2; exit 1; }
grep -q "CNPG101" <<< "$out" || { echo "FAIL: no CNPG101 from pre-commit run" >&2; exit 1; }

echo "== fixed manifest: must pass"
sed -i 's|destinationPath: s3://backups/pg|destinationPath: s3://backups/|' apps/db/cluster.yaml
git add -A
git commit -qm "fix destinationPath"
pre-commit try-repo "$project" cnpg-lint --all-files
pre-commit run --all-files

echo "pre-commit: 2 passed, 0 failed"
