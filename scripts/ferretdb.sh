#!/usr/bin/env bash
# Prints the path of a FerretDB binary, building it from the Go module proxy the first time.
#
# FerretDB is the embedded database on machines that cannot download a real mongod. The binary is
# cached outside the repository (one build per machine). `go install ...@v1.24.2` does not work for
# this release because build/version/version.txt is missing from the module zip, so a throw-away
# wrapper module replaces FerretDB with a local copy that has the file.
#
# stderr carries a few lines for people; src/embedded/ferretDbBinary.ts turns a line starting
# `ferretdb.sh: building` or `ferretdb.sh: waiting` into progress reports until the script ends.
# Go's own output goes to build.log beside the binary, and only its tail is shown on failure.
set -euo pipefail

VERSION=v1.24.2
# The build carries one patch (below); the suffix keeps binaries built without it out of use.
FLAVOUR=id-index
CACHE_ROOT="${GRAPHQL_JWT_AUTH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/graphql-jwt-auth}"
OUT_DIR="$CACHE_ROOT/ferretdb-$VERSION-$FLAVOUR"
OUT="$OUT_DIR/ferretdb"
LOG="$OUT_DIR/build.log"
STEP="FerretDB ${VERSION#v} (first run on this machine, about two minutes)"

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
if ! flock -n 9; then
  echo "ferretdb.sh: waiting for another process building $STEP" >&2
  flock 9
fi
if [ -x "$OUT" ]; then # another process built it while we waited
  echo "$OUT"
  exit 0
fi

echo "ferretdb.sh: building $STEP; Go's output goes to $LOG" >&2
WORK="$(mktemp -d)"
# A failing step exits while its output still goes to the log, so the report uses a saved stderr.
exec 3>&2
cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "ferretdb.sh: FerretDB $VERSION could not be built; the last lines of $LOG:" >&3
    tail -n 20 "$LOG" >&3 || true
  fi
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
export GOFLAGS=-mod=mod CGO_ENABLED=0
{
  go mod init local/ferretdb-build
  go get "github.com/FerretDB/FerretDB/cmd/ferretdb@$VERSION" ||
    GOSUMDB=off go get "github.com/FerretDB/FerretDB/cmd/ferretdb@$VERSION"
  cp -r "$(go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)" ./ferretdb-src
  chmod -R u+w ./ferretdb-src
  echo "$VERSION" >./ferretdb-src/build/version/version.txt
  # FerretDB 1.24's SQLite backend indexes `_id` as `_ferretdb_sjson->"_id"` but looks documents up
  # by `_ferretdb_sjson->'$._id'`. SQLite uses an expression index only for the same expression,
  # so every find, update and delete by `_id` scanned the whole table (EXPLAIN QUERY PLAN: SCAN)
  # and grew with the collection. The lookups are written like the index here, which makes them
  # index searches; both expressions give the same value, and existing databases keep working.
  # docs/data-model.md, "The embedded database".
  metadata=./ferretdb-src/internal/backends/sqlite/metadata/metadata.go
  sed -i "s|IDColumn = DefaultColumn + \"->'\\\$\\._id'\"|IDColumn = DefaultColumn + \"->\\\\\"_id\\\\\"\"|" "$metadata"
  grep -F 'IDColumn = DefaultColumn + "->\"_id\""' "$metadata"
  go mod edit -replace github.com/FerretDB/FerretDB=./ferretdb-src
  go build -trimpath -o "$OUT.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb ||
    go build -trimpath -ldflags=-checklinkname=0 -o "$OUT.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb
} >"$LOG" 2>&1
mv "$OUT.tmp" "$OUT"
echo "$OUT"
