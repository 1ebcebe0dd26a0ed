#!/usr/bin/env bash
# whylogs' own environment for benchmarks/profile.py, beside the peers' .venv (setup.sh):
# whylogs 1.6 pins platformdirs<4 and brings its own DataSketches fork (whylogs-sketching),
# so it stays out of both sightline's dependencies and the Evidently/NannyML environment.
# sightline itself is installed editable, so both tools run on the same numpy and pandas.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv-whylogs/bin/python ]; then
    python3 -m venv .venv-whylogs
fi
.venv-whylogs/bin/python -m pip install --quiet --upgrade pip
.venv-whylogs/bin/python -m pip install --quiet "whylogs==1.6.*" "pandas<3" psutil prometheus-client
.venv-whylogs/bin/python -m pip install --quiet -e ..
echo "*" > .venv-whylogs/.gitignore  # untracked, as python 3.13 venvs do by themselves
