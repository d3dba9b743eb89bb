#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS seconds on the stable
# toolchain (cargo-fuzz with `-s none`), against a temporary copy of its
# seed corpus, so the checked-in corpus is never modified.
#
#   fuzz/run.sh 60          # every target, 60 s each
#   fuzz/run.sh 30 session  # only the named targets
#
# Prints `fuzz TARGET: N executions in S s, no findings` per target.
# Exits non-zero if any target finds a crash; the reproducer is kept in
# fuzz/artifacts/TARGET/ (git-ignored) and the log's tail is printed.
set -euo pipefail

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ || $1 -lt 1 ]]; then
    echo "usage: $0 SECONDS [TARGET...]" >&2
    exit 2
fi
seconds=$1
shift

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

all_targets=(command address data session proxy reply reply_reader message_model)
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    targets=("${all_targets[@]}")
fi
# Targets whose inputs are SMTP text get the dictionary.
dict_targets=" command session "

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

build_start=$(date +%s)
cargo fuzz build -s none -O
echo "build: $(($(date +%s) - build_start)) s"

work=$(mktemp -d "${TMPDIR:-/tmp}/mtakit-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

failed=()
for target in "${targets[@]}"; do
    if [[ ! -f fuzz_targets/$target.rs ]]; then
        echo "unknown target: $target" >&2
        exit 2
    fi
    corpus="$work/corpus/$target"
    mkdir -p "$corpus" "$here/artifacts/$target"
    if [[ -d corpus/$target ]]; then
        cp -R "corpus/$target/." "$corpus/"
    fi
    args=(-max_total_time="$seconds" -print_final_stats=1
          -artifact_prefix="$here/artifacts/$target/")
    if [[ $dict_targets == *" $target "* ]]; then
        args+=(-dict="$here/smtp.dict")
    fi
    log="$work/$target.log"
    status=0
    cargo fuzz run -s none -O "$target" "$corpus" -- "${args[@]}" >"$log" 2>&1 || status=$?
    done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 || true)
    if [[ $status -eq 0 && -n $done_line ]]; then
        runs=$(sed -E 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\1/' <<<"$done_line")
        secs=$(sed -E 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\2/' <<<"$done_line")
        echo "fuzz $target: $runs executions in $secs s, no findings"
    else
        failed+=("$target")
        echo "fuzz $target: FAILED (exit $status); artifacts in fuzz/artifacts/$target/" >&2
        grep -E -A12 "panicked at|ERROR: libFuzzer|SUMMARY|Test unit written" "$log" | tail -n 40 >&2 || tail -n 40 "$log" >&2
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "crashes found in: ${failed[*]}" >&2
    exit 1
fi
