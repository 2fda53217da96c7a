#!/usr/bin/env bash
# Benchmark of `marketplace build` against coreutils.
#
# Times, in one run on the same warm file, `marketplace build` (MD5, SHA-1,
# SHA-256 and SHA-512 in one read, one thread per algorithm) against
# `md5sum; sha1sum; sha256sum; sha512sum` run one after another, checks that
# both give the same digests, and prints both times and their ratio.
#
# Environment:
#   BENCH_BUILD_BYTES  size of the test file in bytes (default 2 GiB)
#   BENCH_CACHE_DIR    where the random test file is kept between runs
#                      (default bench/.cache; the file is created once from
#                      /dev/urandom, so the data is real, not sparse)
#   CARGO_TARGET_DIR   as for cargo (default ./target)
#   BENCH_NO_CARGO=1   use the release binary already built (skip cargo build)
#
# Usage: bench/build.sh            # from anywhere in the repository
#        BENCH_BUILD_BYTES=536870912 bench/build.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bytes=${BENCH_BUILD_BYTES:-2147483648}
cache=${BENCH_CACHE_DIR:-$root/bench/.cache}
target=${CARGO_TARGET_DIR:-$root/target}
image=$cache/build-$bytes.img

if ! [[ $bytes =~ ^[1-9][0-9]*$ ]]; then
    echo "BENCH_BUILD_BYTES must be a positive number of bytes, not '$bytes'" >&2
    exit 2
fi

mkdir -p "$cache"
if [[ ! -f $image || $(stat -c %s "$image") -ne $bytes ]]; then
    echo "creating $image ($bytes random bytes, once)..." >&2
    head -c "$bytes" /dev/urandom > "$image.tmp"
    mv "$image.tmp" "$image"
fi

bin=$target/release/marketplace
if [[ ${BENCH_NO_CARGO:-} != 1 ]]; then
    echo "building the release binary..." >&2
    (cd "$root" && cargo build --release -p marketplace --quiet)
elif [[ ! -x $bin ]]; then
    echo "BENCH_NO_CARGO=1 but there is no $bin" >&2
    exit 2
fi

now() { date +%s.%N; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Warm the page cache so that both sides read from memory, not the disk.
cat "$image" > /dev/null
cat "$image" > /dev/null

load=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(now)
"$bin" build -o "$work/build.xml" "$image" 2> /dev/null
t1=$(now)
each=""
for alg in md5 sha1 sha256 sha512; do
    s=$(now)
    "${alg}sum" "$image" > "$work/$alg"
    each="${each:+$each, }${alg}sum $(awk -v a="$s" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }') s"
done
t2=$(now)

# Same answers?
for alg in md5 sha1 sha256 sha512; do
    value=$(cut -d' ' -f1 "$work/$alg")
    if ! grep -q "<slreq:value>$value</slreq:value>" "$work/build.xml"; then
        echo "MISMATCH: marketplace build and ${alg}sum disagree" >&2
        exit 1
    fi
done

awk -v b="$bytes" -v t0="$t0" -v t1="$t1" -v t2="$t2" \
    -v cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    -v cores="$(nproc)" -v loadavg="$load" -v each="$each" -v cu="$(md5sum --version | head -1)" 'BEGIN {
    build = t1 - t0; core = t2 - t1; mib = b / 1048576
    printf "file:       %d bytes (%.0f MiB), page cache warm\n", b, mib
    printf "machine:    %s, %d cores; %s; load average before: %s\n", cpu, cores, cu, loadavg
    printf "build:      %7.2f s  (%6.0f MiB/s)  marketplace build, 4 digests, one read\n", build, mib / build
    printf "coreutils:  %7.2f s  (%6.0f MiB/s)  md5sum; sha1sum; sha256sum; sha512sum\n", core, mib / core
    printf "            (%s)\n", each
    printf "ratio:      %.2fx faster (target: 2x)\n", core / build
    printf "digests:    identical\n"
}'
