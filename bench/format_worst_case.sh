#!/usr/bin/env bash
# CPU time of the format's parse and rules on the worst uploads within the limits.
#
# Builds the `worst_case` example of marketplace-format in release and runs it:
# it generates each costly shape of document under the 1 MiB upload limit
# (namespace declarations, attributes, nesting, references, long values,
# repeated terms, RDF forms; see crates/format/examples/worst_case.rs), parses
# each with `marketplace_format::parse` until it has used a window of CPU
# time, and prints the mean CPU time per parse and its ratio to a normal
# 2.7 KB document parsed in the same process. Then this script prints the
# five costliest cases and whether any is over the target of 50 ms.
#
# Timings depend on the machine and its load: compare ratios between runs,
# and never turn this into a test.
#
# Environment:
#   BENCH_WINDOW_MS   CPU milliseconds spent on each case (default 300)
#   BENCH_ONLY        run only the cases whose name contains this text
#   BENCH_STRICT      1 to exit with status 1 when a case is over the target
#   CARGO_TARGET_DIR  as for cargo (default ./target)
#
# Usage: bench/format_worst_case.sh           # from anywhere in the repository
#        BENCH_ONLY=ns- BENCH_WINDOW_MS=1000 bench/format_worst_case.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
window=${BENCH_WINDOW_MS:-300}
only=${BENCH_ONLY:-}
target=${CARGO_TARGET_DIR:-$root/target}

if ! [[ $window =~ ^[1-9][0-9]*$ ]]; then
    echo "BENCH_WINDOW_MS must be a positive whole number, not '$window'" >&2
    exit 2
fi

echo "building the release example..." >&2
(cd "$root" && cargo build --release -p marketplace-format --example worst_case --quiet)

args=(--window-ms "$window")
if [[ -n $only ]]; then
    args+=(--only "$only")
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$target/release/examples/worst_case" "${args[@]}" | tee "$out" | grep -v '^RESULT '

echo
echo "costliest cases (CPU ms per parse, ratio to the normal document):"
grep '^RESULT ' "$out" | sort -k4 -g -r | head -5 |
    awk '{ printf "  %-40s %8.2f ms  x%.0f\n", $2, $4, $5 }'
over=$(grep '^RESULT ' "$out" | awk '$4 > 50 { n++ } END { print n + 0 }')
if [[ $over -gt 0 ]]; then
    echo "$over case(s) over the target of 50 ms"
    [[ ${BENCH_STRICT:-0} == 1 ]] && exit 1
else
    echo "every case within the target of 50 ms"
fi
