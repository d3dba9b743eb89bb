#!/usr/bin/env bash
# The mtakit Python package against aiosmtpd, smtpdfix and
# pytest-localserver: start/stop time, smtplib lock step in process, and a
# server whose every hook is Python under `mtakit load` (bench/python_bench.py).
# Loopback only; every run is bounded.
#
#   bash bench/python.sh [--quick] [--out FILE]
#
# Writes bench/python.md and puts it in BENCHMARKS.md in place of the
# previous Python section (bench/compare.sh keeps it when it rewrites the
# file). With --out, writes the section to FILE only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
QUICK=()
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=(--quick); shift ;;
        --out) OUT=${2:?--out needs a file}; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
VENV="$ROOT/target/bench-py"
if ! [ -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    maturin==1.16.0 aiosmtpd==1.4.6 smtpdfix==0.5.3 pytest-localserver==0.10.0.post0
echo "==> release builds: the mtakit binary (the load client) and the wheel" >&2
cargo build --quiet --release -p mtakit-cli
rm -rf "$ROOT/target/bench-wheels"
VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" "$VENV/bin/maturin" build --quiet --release \
    --manifest-path crates/mtakit-py/Cargo.toml --out "$ROOT/target/bench-wheels" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
    "$ROOT"/target/bench-wheels/mtakit-*.whl
echo "==> measuring" >&2
SECTION=$(cd /tmp && timeout 1200 "$VENV/bin/python" "$ROOT/bench/python_bench.py" \
    --mtakit-bin "$ROOT/target/release/mtakit" "${QUICK[@]}")
if [ -n "$OUT" ]; then
    printf '%s\n' "$SECTION" > "$OUT"
    echo "wrote $OUT" >&2
    exit 0
fi
printf '%s\n' "$SECTION" > "$ROOT/bench/python.md"
"$VENV/bin/python" - "$ROOT/BENCHMARKS.md" "$ROOT/bench/python.md" <<'PY'
import sys
path, section_path = sys.argv[1], sys.argv[2]
text = open(path).read()
section = open(section_path).read().rstrip() + "\n"
head = "## Python: the package against the Python test servers"
if head in text:
    start = text.index(head)
    rest = text.find("\n## ", start + len(head))
    text = text[:start] + section + ("\n" + text[rest + 1:] if rest != -1 else "")
else:
    marker = "\n## Machine"
    at = text.find(marker)
    text = text[:at + 1] + section + "\n" + text[at + 1:] if at != -1 else text.rstrip() + "\n\n" + section
open(path, "w").write(text)
PY
echo "wrote bench/python.md and its section of BENCHMARKS.md" >&2
