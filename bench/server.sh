#!/usr/bin/env bash
# Benchmark of `marketplace serve` (and of `marketplace admin import`) against
# nginx serving a static file, all on loopback, in one run.
#
# 1. Generates N signed entries once (crates/server/examples/bench_data.rs:
#    varied images, ~40 endorsers with self-signed RSA-2048 certificates
#    carrying their e-mail, some history, some expired or deprecated), kept
#    in the cache directory.
# 2. Times `marketplace admin import --quiet DIR` into a fresh data
#    directory (every document verified as an upload is, stored in batches).
# 3. Starts `marketplace serve` (release build, RUST_LOG=warn) on a free
#    loopback port, and nginx (Debian package; a temporary configuration,
#    foreground, access log off, on another free loopback port) serving a
#    static file of exactly the size of a lookup response (it *is* one).
# 4. Runs `wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency` against:
#    nginx's static file, requested through the same wrk script as the
#    server's paths (and once more without a script, for reference: the
#    script's cost to wrk lowers every rate it drives); `GET /metadata/{id}`
#    for random identifiers (the
#    check a site makes: the signed documents of the image, XML); the
#    filtered full-text search `GET /api/v1/images?q=ubuntu&os_arch=x86_64`;
#    and a mix of filtered searches (random words, OS and architectures).
#    The searches are also run with one connection per core, which shows the
#    time a search takes rather than the queue in front of it.
#    The nginx and lookup runs follow an unrecorded warm-up run of the
#    same requests (BENCH_WARMUP); the searches do not.
#    The transparency log's reads too: random inclusion proofs
#    (`/api/v1/log/proof/inclusion`; 2,000 indices, which the server keeps
#    once served, and every index, so that nearly each proof is computed)
#    and full hash tiles (`/log/tile/0/N`), beside nginx serving a file of
#    the same bytes.
# 5. Prints requests/s, p50 and p99 latency, the lookup/nginx ratio, the
#    proof/nginx and tile/nginx ratios, the import time (every document
#    verified, stored and appended to the log), against the targets; stops
#    everything it started.
#
# wrk and nginx are installed with apt-get if missing (root needed).
#
# Environment:
#   BENCH_SERVER_N       entries to generate and import (default 100000)
#   BENCH_CACHE_DIR      where generated documents are kept (default bench/.cache)
#   BENCH_DURATION       wrk duration per run (default 10s)
#   BENCH_ROUNDS         alternating nginx / lookup rounds (default 3)
#   BENCH_WARMUP         unrecorded wrk run before the nginx and lookup runs
#                        (default 15s)
#   BENCH_THREADS        wrk threads (default 2)
#   BENCH_CONNECTIONS    wrk connections (default 32)
#   CARGO_TARGET_DIR     as for cargo (default ./target)
#
# Usage: bench/server.sh                 # from anywhere in the repository
#        BENCH_SERVER_N=10000 bench/server.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_SERVER_N:-100000}
cache=${BENCH_CACHE_DIR:-$root/bench/.cache}
duration=${BENCH_DURATION:-10s}
rounds=${BENCH_ROUNDS:-3}
warmup=${BENCH_WARMUP:-15s}
threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-32}
target=${CARGO_TARGET_DIR:-$root/target}
data=$cache/server-$n
cores=$(nproc)

if ! [[ $rounds =~ ^[1-9][0-9]*$ ]]; then
    echo "BENCH_ROUNDS must be a positive number, not '$rounds'" >&2
    exit 2
fi
if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
    echo "BENCH_SERVER_N must be a positive number, not '$n'" >&2
    exit 2
fi

log() { echo "server.sh: $*" >&2; }

# --- tools -------------------------------------------------------------------
missing=()
command -v wrk > /dev/null || missing+=(wrk)
command -v nginx > /dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
if ((${#missing[@]})); then
    log "installing ${missing[*]} (apt-get, for the benchmark only)..."
    if [[ $(id -u) -ne 0 ]]; then
        log "not root: install ${missing[*]} yourself (apt-get install ${missing[*]})"
        exit 2
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
        > /dev/null || {
        apt-get update > /dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" > /dev/null
    }
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

# --- build and data ----------------------------------------------------------
log "building the release binary and the data generator..."
# (Two commands: --example limits a build to that example, binaries included.)
(cd "$root" && cargo build --release --quiet -p marketplace --bin marketplace \
    && cargo build --release --quiet -p marketplace-server --example bench_data)
bin=$target/release/marketplace
if [[ ! -f $data/summary.txt ]]; then
    mkdir -p "$cache"
    log "generating and signing $n entries into $data (once)..."
    "$target/release/examples/bench_data" --count "$n" --out "$data" > /dev/null
fi
docs=$(awk '/^documents/ { print $2 }' "$data/summary.txt")

# --- everything we start, stopped on exit ------------------------------------
work=$(mktemp -d)
serve_pid=""
nginx_pid=""
cleanup() {
    for pid in $serve_pid $nginx_pid; do
        kill "$pid" 2> /dev/null || true
    done
    for pid in $serve_pid $nginx_pid; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2> /dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2> /dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() { # url
    for _ in $(seq 300); do
        curl -fsS -o /dev/null "$1" 2> /dev/null && return 0
        sleep 0.1
    done
    log "no answer from $1"
    return 1
}

# --- import ------------------------------------------------------------------
log "importing $docs documents (marketplace admin import)..."
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s.%N)
timeout 900 "$bin" admin import --quiet --data-dir "$work/data" "$data/docs" > "$work/import.txt"
t1=$(date +%s.%N)
import_line=$(tail -1 "$work/import.txt")
import_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
log "import: $import_line in $import_secs s"

# --- servers -----------------------------------------------------------------
port=$(free_port)
RUST_LOG=warn timeout 900 "$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/data" \
    2> "$work/serve.log" &
serve_pid=$!
base=http://127.0.0.1:$port
wait_http "$base/healthz" || {
    cat "$work/serve.log" >&2
    exit 1
}

mkdir -p "$work/www" "$work/nginx"
# nginx's workers run as an unprivileged user: they must reach the file.
chmod 755 "$work" "$work/www"
id=$(head -1 "$data/ids.txt")
curl -fsS -o "$work/www/lookup.xml" "$base/metadata/$id"
size=$(stat -c %s "$work/www/lookup.xml")
# The transparency log: a proof and a full tile, served by nginx as files of
# the same bytes (the checkpoint that covers the import is signed within a
# second of the start).
for _ in $(seq 50); do
    curl -fsS -o /dev/null "$base/log/checkpoint" 2> /dev/null && break
    sleep 0.2
done
log_size=$(curl -fsS "$base/api/v1/log" | sed 's/.*"size":\([0-9]*\).*/\1/')
curl -fsS -o "$work/www/proof.json" "$base/api/v1/log/proof/inclusion?index=0"
curl -fsS -o "$work/www/tile.bin" "$base/log/tile/0/000"
nport=$(free_port)
cat > "$work/nginx/nginx.conf" << EOF
daemon off;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types { application/rdf+xml xml; }
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:$nport;
        root $work/www;
    }
}
EOF
timeout 900 "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" 2> "$work/nginx/stderr.log" &
nginx_pid=$!
wait_http "http://127.0.0.1:$nport/lookup.xml" || {
    cat "$work/nginx/stderr.log" "$work/nginx/error.log" >&2 2> /dev/null
    exit 1
}

# --- request lists -----------------------------------------------------------
# nginx is driven through the same wrk script as the server (a list of one
# path), so that both sides get the same client: picking a path in Lua costs
# wrk, on the same two cores, about 15 % of nginx's rate.
echo "/lookup.xml" > "$work/nginx.paths"
sed 's|^|/metadata/|' "$data/ids.txt" > "$work/lookup.paths"
echo "/api/v1/images?q=ubuntu&os_arch=x86_64" > "$work/search.paths"
for word in ubuntu centos debian docker jupyter cuda kubernetes condor postgresql grid \
    "ubuntu server" "centos worker" "debian minimal" "rocky hpc" "alpine nginx"; do
    q=${word// /+}
    for filter in "" "&os_arch=x86_64" "&os_arch=aarch64" "&type=appliance" "&hypervisor=kvm"; do
        echo "/api/v1/images?q=$q$filter"
    done
done > "$work/mixed.paths"
echo "/proof.json" > "$work/nginx-proof.paths"
echo "/tile.bin" > "$work/nginx-tile.paths"
awk -v n="$log_size" 'BEGIN {
    srand(7)
    for (i = 0; i < 2000; i++) printf "/api/v1/log/proof/inclusion?index=%d\n", int(rand() * n)
}' > "$work/proof.paths"
# Every index, so that a proof is rarely served twice (the server keeps the
# last 4,096 proofs it served): the cost of a proof computed each time.
awk -v n="$log_size" 'BEGIN {
    for (i = 0; i < n; i++) printf "/api/v1/log/proof/inclusion?index=%d\n", i
}' > "$work/proof-cold.paths"
for n in $(seq 0 $((log_size / 256 - 1))); do
    if ((n >= 1000)); then
        printf '/log/tile/0/x%03d/%03d\n' $((n / 1000)) $((n % 1000))
    else
        printf '/log/tile/0/%03d\n' "$n"
    fi
done > "$work/tile.paths"
# Every path answers 200 (a search may match nothing; it still answers).
for f in lookup search mixed proof tile; do
    p=$(head -1 "$work/$f.paths")
    curl -fsS -o /dev/null "$base$p"
done

# --- runs --------------------------------------------------------------------
run() { # name url paths-file connections [warm]
    local out=$work/$1.wrk
    # With "warm": a warm-up run first, not recorded, so that the pages of
    # the database the lookups touch are mapped (and nginx's file is
    # cached) as in a server that has been running: the first touch of
    # each page of the memory-mapped database is a page fault, and random
    # lookups reach most of the 100,000 and more pages they read (the
    # documents) only after a few hundred thousand requests. The searches run without one: their first run shows
    # queries arriving cold.
    if [[ ${5:-} == warm ]]; then
        BENCH_PATHS=${3:-/dev/null} timeout 300 wrk -t"$threads" -c"$4" -d"$warmup" \
            ${3:+-s "$root/bench/wrk/paths.lua"} "$2" > /dev/null
    fi
    BENCH_PATHS=${3:-/dev/null} timeout 300 wrk -t"$threads" -c"$4" -d"$duration" --latency \
        ${3:+-s "$root/bench/wrk/paths.lua"} "$2" > "$out"
    awk -v name="$1" -v conns="$4" '
        /Requests\/sec:/ { rps = $2 }
        /^ +50%/ { p50 = $2 }
        /^ +99%/ { p99 = $2 }
        /Non-2xx or 3xx responses:/ { bad = $5 }
        /Socket errors:/ { gsub(",", ""); bad += $4 + $6 + $8 + $10 }
        /requests in/ { total = $1 }
        END {
            printf "%s %s %s %s %s %s\n", name, conns, rps, p50, p99, (bad == "" ? 0 : bad) "/" total
        }' "$out" >> "$work/results"
}
log "wrk -t$threads -c$connections -d$duration: nginx and lookup ($rounds rounds), search, mixed searches..."
run nginx-plain "http://127.0.0.1:$nport/lookup.xml" "" "$connections" warm
# nginx and the lookup in alternating rounds: the ratio of each round
# compares runs seconds apart, and the median round's is the result (the
# cores are shared with other machines' work, which comes and goes).
for round in $(seq "$rounds"); do
    warm=$([[ $round == 1 ]] && echo warm || true)
    run "nginx#$round" "http://127.0.0.1:$nport" "$work/nginx.paths" "$connections" $warm
    run "lookup#$round" "$base" "$work/lookup.paths" "$connections" $warm
done
run nginx-proof "http://127.0.0.1:$nport" "$work/nginx-proof.paths" "$connections" warm
run proof "$base" "$work/proof.paths" "$connections" warm
run proof-cold "$base" "$work/proof-cold.paths" "$connections"
run nginx-tile "http://127.0.0.1:$nport" "$work/nginx-tile.paths" "$connections" warm
run tile "$base" "$work/tile.paths" "$connections" warm
run search "$base" "$work/search.paths" "$connections"
run mixed "$base" "$work/mixed.paths" "$connections"
low=$((cores > threads ? cores : threads))
run search "$base" "$work/search.paths" "$low"
run mixed "$base" "$work/mixed.paths" "$low"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ------------------------------------------------------------------
ms() { # wrk latency (e.g. 1.23ms, 456.78us, 1.02s) -> milliseconds
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
        else printf "%s", v }'
}
echo
echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $cores cores," \
    "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average before: $load_before, after: $load_after"
echo "data:     $docs signed entries ($(awk '/^images/ { print $2 }' "$data/summary.txt") images," \
    "$(awk '/^endorsers/ { print $2 }' "$data/summary.txt") endorsers); lookup response $size bytes"
echo "import:   $import_line in $import_secs s" \
    "($(awk -v n="$docs" -v s="$import_secs" 'BEGIN { printf "%.0f", n / s }') documents/s; target: 100000 in < 60 s)"
echo
printf '%-28s %5s %10s %10s %10s %12s\n' "run" "conns" "req/s" "p50 ms" "p99 ms" "failed/all"
while read -r name conns rps p50 p99 bad; do
    round=${name#*#}
    [[ $round == "$name" ]] && round="" || round=" (round $round)"
    case ${name%%#*} in
        nginx-plain) label="nginx static, no script" ;;
        nginx) label="nginx static file$round" ;;
        lookup) label="GET /metadata/{id}$round" ;;
        nginx-proof) label="nginx, a proof's bytes" ;;
        proof) label="inclusion proof, 2000 kept" ;;
        proof-cold) label="inclusion proof, computed" ;;
        nginx-tile) label="nginx, a tile's bytes" ;;
        tile) label="log tile (8 KiB)" ;;
        search) label="search ubuntu x86_64" ;;
        mixed) label="mixed filtered searches" ;;
    esac
    printf '%-28s %5s %10s %10s %10s %12s\n' "$label" "$conns" "$rps" "$(ms "$p50")" "$(ms "$p99")" "$bad"
done < "$work/results"
echo
# Each round's ratio, and the median round's (with its plain-nginx ratio).
awk -v rounds="$rounds" '
    $1 == "nginx-plain" { plain = $3 }
    $1 ~ /^nginx#/ { split($1, a, "#"); nginx[a[2]] = $3 }
    $1 ~ /^lookup#/ { split($1, a, "#"); lookup[a[2]] = $3 }
    END {
        for (r = 1; r <= rounds; r++) {
            ratio[r] = lookup[r] / nginx[r]
            printf "%s%.2f", (r == 1 ? "lookup / nginx by round: " : ", "), ratio[r]
            order[r] = r
        }
        for (i = 1; i <= rounds; i++)
            for (j = i + 1; j <= rounds; j++)
                if (ratio[order[j]] < ratio[order[i]]) { t = order[i]; order[i] = order[j]; order[j] = t }
        m = order[int((rounds + 1) / 2)]
        printf "\nlookup / nginx: %.2f, the median round (target: 0.50 or better; %.2f of nginx without the script)\n",
            ratio[m], lookup[m] / plain
    }' "$work/results"
awk -v c="$connections" '$1 == "search" && $2 == c {
    printf "search p99 at %s connections: %s (target: under 50 ms)\n", c, $5 }' "$work/results"
awk '$1 ~ /^(nginx-proof|proof|proof-cold|nginx-tile|tile)$/ { rate[$1] = $3 }
    END {
        printf "log proof / nginx: %.2f served again, %.2f computed; log tile / nginx: %.2f " \
            "(target: 0.50 or better)\n", rate["proof"] / rate["nginx-proof"],
            rate["proof-cold"] / rate["nginx-proof"], rate["tile"] / rate["nginx-tile"]
    }' "$work/results"
