#!/bin/sh
# redis-benchmark against detraft's RESP front end and, in the same run, against a real
# redis-server with appendfsync always (every write fsynced before the reply: the nearest
# durable single-node baseline). Both on loopback, each with a fresh data directory that is
# removed at the end. Needs redis-server and redis-benchmark (Debian: redis-server,
# redis-tools) and a built kv-app/target/detraft.jar (the launcher builds it if missing).
#
#   kv-app/resp-bench.sh                 # 64 clients, -P 1 and -P 16, 100000 requests each
#   N=20000 kv-app/resp-bench.sh         # fewer requests
#
# Ports: redis-server on $REDIS_PORT (26379); detraft's 3-node local cluster on base port
# $BASE_PORT (28081): HTTP 28081-28083, Raft 27081-27083, RESP 26081-26083 (the client
# talks to node 1, which forwards writes for the groups other nodes lead).
set -eu
N=${N:-100000}
REDIS_PORT=${REDIS_PORT:-26379}
BASE_PORT=${BASE_PORT:-28081}
RESP_PORT=$((BASE_PORT - 2000))
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
REDIS_PID=""
DETRAFT_PID=""
cleanup() {
  set +e
  for pid in $REDIS_PID $DETRAFT_PID; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

await() { # port
  for _ in $(seq 1 300); do
    if [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; then return 0; fi
    sleep 0.2
  done
  echo "resp-bench: nothing answers PING on port $1" >&2
  exit 1
}

mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --save '' \
  --appendonly yes --appendfsync always --daemonize no >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
"$ROOT/detraft" cluster --nodes 3 --data-dir "$WORK/detraft" --base-port "$BASE_PORT" \
  >"$WORK/detraft.log" 2>&1 &
DETRAFT_PID=$!
await "$REDIS_PORT"
await "$RESP_PORT"
sleep 3 # let the groups' leaderships settle (detraft balances them across the nodes)

echo "redis-benchmark -t set,get -c 64 -n $N, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
for pipeline in 1 16; do
  for target in "redis-server(appendfsync-always) $REDIS_PORT" "detraft(3-nodes) $RESP_PORT"; do
    name=${target% *}
    port=${target#* }
    redis-benchmark -p "$port" -t set,get -c 64 -P "$pipeline" -n "$N" -q 2>/dev/null \
      | tr '\r' '\n' | grep -E '^(SET|GET): [0-9.]+ requests per second' \
      | sed "s/^/$name -P $pipeline  /"
  done
done
