#!/usr/bin/env bash
# Runs the `parse_validate_verify` libFuzzer target on the stable toolchain.
#
# Seeds fuzz/corpus/parse_validate_verify from the conformance corpus at run
# time (the documents are not copied into the repository), then fuzzes with
# the XML dictionary. Crashes go to fuzz/artifacts/parse_validate_verify/.
#
# Environment:
#   FUZZ_SECONDS     how long to fuzz (default 120)
#   FUZZ_JOBS        parallel fuzzing processes (default 1; the machine has 2 cores)
#   FUZZ_SANITIZER   none (default, works on stable) or address (needs
#                    RUSTC_BOOTSTRAP=1, which this script then sets)
#   CONFORMANCE_DIR  the StratusLab corpus (default ../shared/conformance/stratuslab-metadata
#                    beside the repository)
#
# Extra arguments are passed to libFuzzer, e.g.  fuzz/run.sh -max_len=65536
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
target=parse_validate_verify
seconds=${FUZZ_SECONDS:-120}
jobs=${FUZZ_JOBS:-1}
sanitizer=${FUZZ_SANITIZER:-none}
conformance=${CONFORMANCE_DIR:-$root/../shared/conformance/stratuslab-metadata}
corpus=$here/corpus/$target

if ! command -v cargo-fuzz > /dev/null; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 2
fi
if ! compgen -G "$conformance/*.xml" > /dev/null; then
    echo "no conformance documents in $conformance (set CONFORMANCE_DIR)" >&2
    exit 2
fi

mkdir -p "$corpus"
# Seed with the real documents (libFuzzer names its own finds by SHA-1, so
# these names never collide with them). Copying again is harmless.
for f in "$conformance"/*.xml; do
    cp -f "$f" "$corpus/seed-$(basename "$f")"
done

flags=(-s "$sanitizer")
if ((jobs > 1)); then
    flags+=(--jobs "$jobs")
fi
if [[ $sanitizer != none ]]; then
    # -Zsanitizer is a nightly flag; the stable compiler accepts it only so.
    export RUSTC_BOOTSTRAP=1
fi

cd "$here"
exec cargo fuzz run "${flags[@]}" "$target" "$corpus" -- \
    -dict="$here/xml.dict" \
    -max_len=16384 \
    -timeout=10 \
    -rss_limit_mb=4096 \
    -max_total_time="$seconds" \
    -print_final_stats=1 \
    "$@"
