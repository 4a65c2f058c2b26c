#!/bin/sh
# TLS cost on the 3-node write benchmark: redis-benchmark SETs (64 clients) against a local
# 3-node `detraft cluster` in plain text and against one with `--tls-dir` (mutual TLS
# everywhere: Raft between nodes, RESP from the client, HTTPS for the writes node 1 forwards
# to other groups' leaders), alternating, ROUNDS rounds of each; a fresh cluster every run.
# Needs redis-benchmark and redis-cli built with TLS (Debian's redis-tools) and a built
# kv-app/target/detraft.jar (the launcher builds it if missing).
#
#   kv-app/tls-bench.sh                  # 3 rounds, 100000 SETs per run
#   ROUNDS=5 N=50000 kv-app/tls-bench.sh
#
# Ports: base port $BASE_PORT (29081): HTTP 29081-29083, Raft 28081-28083, RESP 27081-27083.
set -eu
N=${N:-100000}
ROUNDS=${ROUNDS:-3}
BASE_PORT=${BASE_PORT:-29081}
RESP_PORT=$((BASE_PORT - 2000))
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
PID=""
cleanup() {
  set +e
  if [ -n "$PID" ]; then
    kill "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"$ROOT/detraft" certs --dir "$WORK/certs" --nodes 3 >/dev/null
TLS_CLIENT="--tls --cacert $WORK/certs/ca.pem --cert $WORK/certs/client.pem --key $WORK/certs/client.key"

run() { # plain|tls
  if [ "$1" = tls ]; then flags="--tls-dir $WORK/certs"; client=$TLS_CLIENT; else flags=""; client=""; fi
  rm -rf "$WORK/data"
  # shellcheck disable=SC2086
  "$ROOT/detraft" cluster --nodes 3 --data-dir "$WORK/data" --base-port "$BASE_PORT" $flags \
    >"$WORK/detraft.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 300); do
    # shellcheck disable=SC2086
    if [ "$(redis-cli -p "$RESP_PORT" $client ping 2>/dev/null)" = PONG ]; then break; fi
    sleep 0.2
  done
  sleep 3 # let the groups' leaderships settle
  # shellcheck disable=SC2086
  redis-benchmark -p "$RESP_PORT" $client -t set -c 64 -n 10000 -q >/dev/null 2>&1 # warm-up
  # shellcheck disable=SC2086
  redis-benchmark -p "$RESP_PORT" $client -t set -c 64 -n "$N" -q 2>/dev/null \
    | tr '\r' '\n' | grep -E '^SET: [0-9.]+ requests per second' | sed "s/^/$1  /"
  kill "$PID"
  wait "$PID" 2>/dev/null || true
  PID=""
}

echo "redis-benchmark -t set -c 64 -n $N, 3-node detraft cluster, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
  run plain
  run tls
done
