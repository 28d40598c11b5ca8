#!/usr/bin/env bash
# Print the path of a runner-local virtual environment with the project installed, made
# once and reused while pyproject.toml (and the Python) stay the same: the GPU extra
# (TensorFlow with its CUDA libraries, about 3 GB) is not downloaded again every run.
#
#   venv=$(gpu/venv.sh [EXTRA])     e.g. gpu/venv.sh gpu
#
# Environment (optional):
#   APEXSPOT_HOME   runner-local folder for the venvs (default ~/.cache/apexspot)
#   APEXSPOT_VENV   use this existing venv as it is, with the project already installed
#                   (editable) from this checkout: nothing is installed
set -euo pipefail
cd "$(dirname "$0")/.."

extra="${1:-}"
if [ -n "${APEXSPOT_VENV:-}" ]; then
  echo "$APEXSPOT_VENV"
  exit 0
fi

home="${APEXSPOT_HOME:-$HOME/.cache/apexspot}"
key=$({ cat pyproject.toml; echo "$extra"; python3 --version; } | sha256sum | cut -c1-16)
venv="$home/venv-${extra:-base}-$key"
if [ ! -f "$venv/.complete" ]; then  # absent or half-made (an install that was cancelled)
  rm -rf "$venv"
  mkdir -p "$home"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q -e ".${extra:+[$extra]}" >&2
  touch "$venv/.complete"
fi
# This checkout, without touching the dependencies: a few seconds.
"$venv/bin/pip" install -q --no-deps -e . >&2
echo "$venv"
