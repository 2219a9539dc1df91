#!/usr/bin/env bash
# Create bench/.venv-peers: an isolated environment with the peer tools the
# benchmarks and reference generators compare against (never imported by tailwatch).
#   traffic 2.13 needs pandas<3 (it fails to import with pandas 3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-peers"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "traffic==2.13" "pandas<3" "airportsdata>=20250101" psutil "bluesky-navdata==1.0.0"
"$venv/bin/python" -c "import traffic, pandas; print('traffic', traffic.__version__, 'pandas', pandas.__version__)"
