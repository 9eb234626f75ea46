#!/usr/bin/env bash
# Prints the path of a FerretDB binary, building it from the Go module proxy the first time.
#
# FerretDB is the embedded database on machines that cannot download a real mongod. The binary is
# cached outside the repository (one build per machine). `go install ...@v1.24.2` does not work for
# this release because build/version/version.txt is missing from the module zip, so a throw-away
# wrapper module replaces FerretDB with a local copy that has the file.
set -euo pipefail

VERSION=v1.24.2
CACHE_ROOT="${GRAPHQL_JWT_AUTH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/graphql-jwt-auth}"
OUT_DIR="$CACHE_ROOT/ferretdb-$VERSION"
OUT="$OUT_DIR/ferretdb"

if [ -x "$OUT" ]; then
  echo "$OUT"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "ferretdb.sh: Go is needed to build the embedded FerretDB; install Go or set MONGODB_URI" >&2
  exit 1
fi

mkdir -p "$OUT_DIR"
exec 9>"$OUT_DIR/.lock"
flock 9
if [ -x "$OUT" ]; then # another process built it while we waited
  echo "$OUT"
  exit 0
fi

echo "ferretdb.sh: building FerretDB $VERSION into $OUT_DIR (once per machine, about two minutes)" >&2
WORK="$(mktemp -d)"
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
cd "$WORK"
export GOFLAGS=-mod=mod CGO_ENABLED=0
{
  go mod init local/ferretdb-build
  go get "github.com/FerretDB/FerretDB/cmd/ferretdb@$VERSION" ||
    GOSUMDB=off go get "github.com/FerretDB/FerretDB/cmd/ferretdb@$VERSION"
  cp -r "$(go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)" ./ferretdb-src
  chmod -R u+w ./ferretdb-src
  echo "$VERSION" >./ferretdb-src/build/version/version.txt
  go mod edit -replace github.com/FerretDB/FerretDB=./ferretdb-src
  go build -trimpath -o "$OUT.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb ||
    go build -trimpath -ldflags=-checklinkname=0 -o "$OUT.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb
} >&2
mv "$OUT.tmp" "$OUT"
echo "$OUT"
