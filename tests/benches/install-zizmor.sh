#!/usr/bin/env bash
# Installs zizmor (the reference point of the benchmark) from PyPI into a virtualenv beside the
# build, and prints the path of its binary. Usage:
#   SLUICE_BENCH_ZIZMOR=$(tests/benches/install-zizmor.sh) cargo bench -p sluice --bench packs
set -euo pipefail
version="${ZIZMOR_VERSION:-1.32.0}"
venv="${CARGO_TARGET_DIR:-$HOME/.cache/sluice-target}/bench-tools/zizmor-$version"
if [ ! -x "$venv/bin/zizmor" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet "zizmor==$version" >&2
fi
echo "$venv/bin/zizmor"
