#!/usr/bin/env bash
# Instructions per request of `marketplace serve` for the site's check
# `GET /metadata/{id}`, beside a static asset of the web interface
# (`GET /static/favicon.svg`: the routing, middleware and HTTP cost alone),
# counted by valgrind's callgrind — a figure that repeats to within 0.1 %
# on a busy machine, where wall-clock rates do not (docs/performance.md).
# Counts user-space instructions of the server process only: the kernel's
# share (socket writes, locks) is not in it. Under valgrind, SHA-256 runs
# without the CPU's SHA extensions (about 3,300 instructions per 64-byte
# block instead of a few hundred), which weighs on the static request:
# its ETag hashes its body, the lookup's hashes three digests.
#
# 1. Uses the documents of bench/server.sh (generated there; run it once
#    first) and imports them into a data directory kept in the cache.
# 2. Starts the release binary under callgrind, sends BENCH_WARM requests
#    of each kind (not counted), zeroes the counters, sends BENCH_REQUESTS
#    requests on one keep-alive connection, dumps, and divides.
# 3. Prints instructions per lookup, per static request, and their ratio.
#
# Environment: BENCH_SERVER_N (default 100000), BENCH_CACHE_DIR (default
# bench/.cache), BENCH_REQUESTS (default 3000), BENCH_WARM (default 500),
# CARGO_TARGET_DIR.
#
# Usage: bench/lookup_instructions.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_SERVER_N:-100000}
cache=${BENCH_CACHE_DIR:-$root/bench/.cache}
requests=${BENCH_REQUESTS:-3000}
warm=${BENCH_WARM:-500}
target=${CARGO_TARGET_DIR:-$root/target}
docs=$cache/server-$n
data=$cache/server-$n-data

log() { echo "lookup_instructions.sh: $*" >&2; }

for tool in valgrind callgrind_control callgrind_annotate python3 curl; do
    command -v "$tool" > /dev/null || {
        log "$tool is missing (Debian packages valgrind, python3, curl)"
        exit 2
    }
done
if [[ ! -f $docs/summary.txt ]]; then
    log "no documents in $docs: run bench/server.sh first (it generates them)"
    exit 2
fi

(cd "$root" && cargo build --release --quiet -p marketplace --bin marketplace)
bin=$target/release/marketplace
if [[ ! -f $data/done ]]; then
    log "importing $docs/docs into $data (once)..."
    rm -rf "$data"
    "$bin" admin import --quiet --data-dir "$data" "$docs/docs" > /dev/null
    touch "$data/done"
fi

work=$(mktemp -d)
pid=""
cleanup() {
    [[ -n $pid ]] && kill "$pid" 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed 's|^|/metadata/|' "$docs/ids.txt" > "$work/lookup.paths"
echo "/static/favicon.svg" > "$work/static.paths"

# Sends $3 GET requests for paths of file $1 (random, seed $2) on one
# keep-alive connection; fails on any status but 200.
send() {
    python3 - "$1" "$2" "$3" "$port" << 'EOF'
import http.client, random, sys
paths = [l.strip() for l in open(sys.argv[1]) if l.strip()]
random.seed(int(sys.argv[2]))
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[4]))
for _ in range(int(sys.argv[3])):
    c.request("GET", random.choice(paths))
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"status {r.status}")
EOF
}

# Instructions per request for the paths of file $1.
count() {
    local kind=$1 out=$work/callgrind.$1
    RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" 2> "$work/valgrind.$kind.log" &
    pid=$!
    for _ in $(seq 600); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2> /dev/null && break
        sleep 0.2
    done
    send "$work/$kind.paths" 1 "$warm"
    callgrind_control -z "$pid" > /dev/null 2>&1
    send "$work/$kind.paths" 2 "$requests"
    callgrind_control -d "$pid" > /dev/null 2>&1
    kill "$pid"
    wait "$pid" 2> /dev/null || true
    pid=""
    # The dump is the first numbered part (the rest of the run follows it).
    callgrind_annotate "$(ls "$out".* | sort | head -1)" 2> /dev/null |
        awk -v n="$requests" '/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%.0f\n", $1 / n }'
}

log "counting $requests lookups and $requests static requests under callgrind..."
lookup=$(count lookup)
static=$(count static)
echo "GET /metadata/{id}:     $lookup instructions/request"
echo "GET /static/favicon.svg: $static instructions/request"
awk -v l="$lookup" -v s="$static" 'BEGIN { printf "lookup / static: %.2f\n", l / s }'
