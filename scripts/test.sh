#!/usr/bin/env bash
# Runs every test: the Rust workspace, then the Python packages (mtakit,
# built into a virtualenv under target/, and pymta-compat on top of it),
# type-checked and run with pytest.
#
#   bash scripts/test.sh
#
# Needs a Rust toolchain and python3 (3.10 or newer) with venv; the Python
# tools are installed into the virtualenv from crates/mtakit-py/tests/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> Rust: cargo test --workspace --all-features"
cargo test --workspace --all-features

echo "==> Python: build mtakit into target/py-venv"
venv="$PWD/target/py-venv"
if ! [ -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r crates/mtakit-py/tests/requirements.txt
VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
    "$venv/bin/maturin" develop --quiet --manifest-path crates/mtakit-py/Cargo.toml

echo "==> Python: install pymta-compat (python/pymta-compat) into the same virtualenv"
# --no-deps: its one dependency, mtakit, is the package just built.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-deps --no-build-isolation ./python/pymta-compat

echo "==> Python: mypy --strict on the packages, their stubs and the tests"
(cd crates/mtakit-py && "$venv/bin/mypy" --strict python/mtakit tests)
(cd python/pymta-compat && "$venv/bin/mypy" --strict pymta tests)

echo "==> Python: pytest"
(cd crates/mtakit-py && "$venv/bin/python" -m pytest -q)
(cd python/pymta-compat && "$venv/bin/python" -m pytest -q)
