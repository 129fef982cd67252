#!/usr/bin/env bash
# gitferry as a peer for ../shared/bench/ingest/measure.sh: `serve` in the foreground (exec,
# so measure.sh reads this PID), webhook secret `bench-secret`, warn-level logs, a fresh store.
#
#   cargo build --release
#   ../shared/bench/ingest/measure.sh benches/ingest/start.sh 3000
#
# STORE=postgres measures against PostgreSQL (BENCH_DATABASE_URL, default the local `test`
# database, in a fresh schema); the default is a fresh SQLite file.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${GITFERRY_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/gitferry}"
[[ -x "$bin" ]] || { echo "start.sh: build first: cargo build --release ($bin missing)" >&2; exit 2; }

case "${STORE:-sqlite}" in
  sqlite)
    # Each run writes ~28 KB per delivery; old runs' stores are removed first.
    rm -rf /tmp/gitferry-bench.*
    dir="$(mktemp -d /tmp/gitferry-bench.XXXXXX)"
    export DATABASE_URL="sqlite://$dir/gitferry.db" ;;
  postgres)
    base="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
    schema="bench_$(date +%s)"
    psql -q "$base" -c "CREATE SCHEMA $schema" >/dev/null
    export DATABASE_URL="$base?options=-c%20search_path%3D$schema" ;;
  *) echo "start.sh: STORE must be sqlite or postgres" >&2; exit 2 ;;
esac

export GITFERRY_LISTEN="127.0.0.1:${PORT:-3000}"
export GITHUB_WEBHOOK_SECRET=bench-secret
export GITFERRY_ENV_FILE=/nonexistent/.env
export RUST_LOG=warn
exec ${PIN:+taskset -c "$PIN"} "$bin" serve
