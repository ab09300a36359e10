#!/usr/bin/env bash
# Shows Coffer working on this machine: creates a repository, backs up a folder, restores
# it and compares. Everything goes under a temp dir that is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export COFFER_REPOSITORY="$work/repo"
export COFFER_PASSWORD_FILE="$work/password"
head -c 24 /dev/urandom | base64 > "$COFFER_PASSWORD_FILE"
coffer() { node apps/cli/bin/coffer.js "$@"; }

echo "== coffer repo init"
coffer repo init
echo "== coffer repo backup docs libs"
coffer repo backup docs libs/repository/src
echo "== coffer repo backup (again: unchanged files are not read)"
coffer repo backup docs libs/repository/src
echo "== coffer repo snapshots"
coffer repo snapshots
echo "== coffer repo restore latest --target $work/restored"
coffer repo restore latest --target "$work/restored"
diff -r docs "$work/restored$PWD/docs" && diff -r libs/repository/src "$work/restored$PWD/libs/repository/src"
echo "== restored tree is identical to the original"
echo "== coffer repo check --read-data"
coffer repo check --read-data
