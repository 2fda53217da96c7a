#!/usr/bin/env bash
# Benchmark of signature verification against OpenSSL's raw RSA-2048 verify.
#
# Builds the `verify_bench` example of marketplace-trust in release, runs it
# (documents per second through `dsig::verify`, on one thread, for a fixed
# time each), runs `openssl speed -seconds S rsa2048` in the same script,
# takes its verify/s column, and prints both and their ratio. The target is a
# ratio of at least 0.25: verifying a whole document at a quarter of the rate
# of OpenSSL's bare RSA-2048 public-key operation.
#
# Both sides are compared per second of CPU time: `openssl speed` divides by
# CPU user time unless given -elapsed, and verify_bench measures its thread's
# CPU time (it prints wall-clock rates too). On a shared machine this keeps
# the ratio meaningful while other processes take turns on the cores.
#
# Environment:
#   BENCH_VERIFY_SECONDS  seconds per measurement (default 3; also given to openssl speed)
#   BENCH_VERIFY_PHASES   1 to also time each step of dsig::verify (default 1)
#   CARGO_TARGET_DIR      as for cargo (default ./target)
#   CONFORMANCE_DIR       the StratusLab corpus (default ../shared/conformance/
#                         stratuslab-metadata beside the repository)
#
# Usage: bench/verify.sh            # from anywhere in the repository
#        BENCH_VERIFY_SECONDS=10 bench/verify.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${BENCH_VERIFY_SECONDS:-3}
phases=${BENCH_VERIFY_PHASES:-1}
target=${CARGO_TARGET_DIR:-$root/target}
corpus=${CONFORMANCE_DIR:-$root/../shared/conformance/stratuslab-metadata}

if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
    echo "BENCH_VERIFY_SECONDS must be a positive whole number, not '$seconds'" >&2
    exit 2
fi
command -v openssl > /dev/null || { echo "openssl (the command) is needed" >&2; exit 2; }

echo "building the release example..." >&2
(cd "$root" && cargo build --release -p marketplace-trust --example verify_bench --quiet)
bin=$target/release/examples/verify_bench

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

args=(--seconds "$seconds" --corpus "$corpus")
[[ $phases == 1 ]] && args+=(--phases)
load_before=$(cut -d' ' -f1 /proc/loadavg)
"$bin" "${args[@]}" | tee "$work/ours"
echo
echo "openssl speed -seconds $seconds rsa2048 ..." >&2
openssl speed -seconds "$seconds" rsa2048 2> /dev/null | tee "$work/openssl" | tail -2
load_after=$(cut -d' ' -f1 /proc/loadavg)

# RESULT <name> <per wall second> <per wall second, best slice> <per CPU second>
result() { awk -v n="$1" -v f="$2" '$1 == "RESULT" && $2 == n { print $f }' "$work/ours"; }
ours=$(result verify_rsa2048_sha256 5)
ours_wall=$(result verify_rsa2048_sha256 3)
cold=$(result verify_rsa2048_sha256_cold 5)
legacy=$(result verify_legacy_rsa_sha1 5)
check=$(result check_document_rsa2048_sha256 5)
raw=$(result raw_rsa2048_sha256_verify 5)
# "rsa 2048 bits 0.000210s 0.000013s   4771.3  78257.4": verify/s is the last column
# (per second of CPU user time: openssl speed's default divisor).
speed=$(awk '$1 == "rsa" && $2 == "2048" && $3 == "bits" { print $NF }' "$work/openssl")
if [[ -z $ours || -z $speed ]]; then
    echo "could not read the figures (ours: '$ours', openssl: '$speed')" >&2
    exit 1
fi

echo
awk -v ours="$ours" -v wall="$ours_wall" -v cold="$cold" -v legacy="$legacy" -v check="$check" \
    -v raw="$raw" -v speed="$speed" -v s="$seconds" -v l0="$load_before" -v l1="$load_after" \
    -v cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    -v cores="$(nproc)" -v ossl="$(openssl version)" 'BEGIN {
    printf "machine:    %s, %d cores; %s\n", cpu, cores, ossl
    printf "load:       %s before, %s after (1-minute load average)\n", l0, l1
    printf "per second of CPU time, one thread (wall-clock rates are in the table above):\n"
    printf "  dsig::verify, RSA-2048 RSA-SHA256:        %8.0f docs/s  (%.1f us/doc; %.0f/s wall)\n", ours, 1e6 / ours, wall
    printf "  same, a new certificate each time:        %8.0f docs/s  (%.1f us/doc)\n", cold, 1e6 / cold
    printf "  dsig::verify, legacy RSA-SHA1 corpus doc: %8.0f docs/s  (%.1f us/doc)\n", legacy, 1e6 / legacy
    printf "  check_document, RSA-SHA256:               %8.0f docs/s  (%.1f us/doc)\n", check, 1e6 / check
    printf "  openssl crate, RSA-2048 verify alone:     %8.0f /s      (hashing SignedInfo included)\n", raw
    printf "  openssl speed rsa2048, verify/s:          %8.0f /s      (%d s)\n", speed, s
    r = ours / speed
    printf "ratio:      %.3f of openssl speed (target: 0.25) -> %s\n", r, (r >= 0.25 ? "met" : "MISSED")
    printf "            %.3f with a new certificate each time\n", cold / speed
    if (l0 + 0 > 1.5 || l1 + 0 > 1.5)
        printf "note:       the machine was busy (load above 1.5); CPU-time rates move less than wall-clock ones\n"
}'
