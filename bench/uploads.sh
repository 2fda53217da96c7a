#!/usr/bin/env bash
# Uploads per second with and without the transparency log, in one run.
#
# The log has no switch to turn it off (an upload is answered only once a
# signed checkpoint covers it), so the reference is the marketplace as it
# was just before the log: the commit BENCH_BASELINE (default: the parent
# of the commit that added the log's tables), checked out in a Git worktree
# under the cache directory and built there once with its own target
# directory. Both binaries then take the same uploads, alternately, each on
# a fresh data directory (SQLite, synchronous = FULL: every acknowledged
# upload is on disk):
#
# 1. generates N signed documents once (crates/server/examples/bench_data.rs,
#    as bench/server.sh does), kept in the cache directory;
# 2. for each round, for each binary: starts `marketplace serve` (release,
#    RUST_LOG=warn, a free loopback port), posts the first N documents from
#    C clients (bench/uploads.py: keep-alive, one identifier per client so
#    that an entry's history arrives in order), stops it;
# 3. prints each run (requests/s, entries created/s) and the ratio with/
#    without the log per round and for the median round.
#
# Environment:
#   BENCH_UPLOADS_N        documents to upload per run (default 3000)
#   BENCH_UPLOAD_CLIENTS   concurrent clients (default 16)
#   BENCH_ROUNDS           rounds (default 3)
#   BENCH_BASELINE         the reference commit (default: before the log)
#   BENCH_CACHE_DIR        where documents, the worktree and its build are kept
#                          (default bench/.cache)
#   CARGO_TARGET_DIR       as for cargo (default ./target)
#
# Usage: bench/uploads.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_UPLOADS_N:-3000}
clients=${BENCH_UPLOAD_CLIENTS:-16}
rounds=${BENCH_ROUNDS:-3}
cache=${BENCH_CACHE_DIR:-$root/bench/.cache}
target=${CARGO_TARGET_DIR:-$root/target}
log() { echo "uploads.sh: $*" >&2; }

for value in "$n" "$clients" "$rounds"; do
    if ! [[ $value =~ ^[1-9][0-9]*$ ]]; then
        log "BENCH_UPLOADS_N, BENCH_UPLOAD_CLIENTS and BENCH_ROUNDS must be positive numbers"
        exit 2
    fi
done

# --- the two binaries ---------------------------------------------------------
added=$(git -C "$root" log --format=%H --diff-filter=A -1 -- crates/store/migrations/sqlite/0007_log.sql)
baseline=$(git -C "$root" rev-parse "${BENCH_BASELINE:-$added^}")
log "building the release binary and the data generator..."
(cd "$root" && cargo build --release --quiet -p marketplace --bin marketplace \
    && cargo build --release --quiet -p marketplace-server --example bench_data)
worktree=$cache/baseline-$baseline
if [[ ! -d $worktree ]]; then
    mkdir -p "$cache"
    git -C "$root" worktree add --detach "$worktree" "$baseline" > /dev/null
fi
log "building the reference ${baseline:0:10} (without the log; once)..."
(cd "$worktree" && CARGO_TARGET_DIR=$cache/baseline-target \
    cargo build --release --quiet -p marketplace --bin marketplace)
with_log=$target/release/marketplace
without_log=$cache/baseline-target/release/marketplace

# --- data --------------------------------------------------------------------
data=$cache/uploads-$n
if [[ ! -f $data/summary.txt ]]; then
    log "generating and signing $n entries into $data (once)..."
    "$target/release/examples/bench_data" --count "$n" --out "$data" > /dev/null
fi

# --- runs --------------------------------------------------------------------
work=$(mktemp -d)
serve_pid=""
cleanup() {
    [[ -n $serve_pid ]] && kill "$serve_pid" 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

run() { # name binary
    local port dir
    port=$(free_port)
    dir=$work/$1-data
    rm -rf "$dir"
    RUST_LOG=warn "$2" serve --listen "127.0.0.1:$port" --data-dir "$dir" 2> "$work/$1.log" &
    serve_pid=$!
    for _ in $(seq 300); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2> /dev/null && break
        sleep 0.1
    done
    python3 "$root/bench/uploads.py" "http://127.0.0.1:$port" "$data/docs" "$clients" "$n" \
        > "$work/$1.out"
    kill "$serve_pid"
    wait "$serve_pid" 2> /dev/null || true
    serve_pid=""
    echo "$1 $(head -1 "$work/$1.out")" >> "$work/results"
    log "$1: $(head -1 "$work/$1.out") ($(tail -1 "$work/$1.out"))"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq "$rounds"); do
    run "without#$round" "$without_log"
    run "with#$round" "$with_log"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:  $(nproc) cores; load average before: $load_before, after: $load_after"
echo "uploads:  $n signed documents per run, $clients clients, SQLite (synchronous = FULL)"
echo "without:  ${baseline:0:10}, the marketplace before the transparency log"
echo
printf '%-22s %10s %10s %12s %12s\n' run requests created requests/s created/s
while read -r name _ requests _ created _ _ _ _ _ rps _ cps; do
    printf '%-22s %10s %10s %12s %12s\n' "$name" "$requests" "$created" "$rps" "$cps"
done < "$work/results"
echo
awk -v rounds="$rounds" '
    { split($1, a, "#"); rate[a[1], a[2]] = $13 }
    END {
        for (r = 1; r <= rounds; r++) {
            ratio[r] = rate["with", r] / rate["without", r]
            printf "%s%.2f", (r == 1 ? "created/s with the log / without, by round: " : ", "), ratio[r]
            order[r] = r
        }
        for (i = 1; i <= rounds; i++)
            for (j = i + 1; j <= rounds; j++)
                if (ratio[order[j]] < ratio[order[i]]) { t = order[i]; order[i] = order[j]; order[j] = t }
        printf "\ncreated/s with the log / without: %.2f, the median round\n", ratio[order[int((rounds + 1) / 2)]]
    }' "$work/results"
