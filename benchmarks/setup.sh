#!/usr/bin/env bash
# The peers' own environment: Evidently and NannyML need pandas<3. Never sightline's deps.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "pandas<3" "evidently==0.7.*" "nannyml==0.13.*" statsmodels psutil "river==0.26.*"
.venv/bin/python -m pip install --quiet -e ..
