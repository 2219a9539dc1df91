#!/usr/bin/env bash
# tailwatch from a fresh clone, in two commands:
#   ./run.sh demo   set up (once) and run `tailwatch demo` on the embedded sahel-2023 scenario
#   ./run.sh test   set up (once) and run the whole test suite (ruff, mypy --strict, pytest)
# Set-up is idempotent: a virtualenv in .venv, the package (with its dev extras for test and
# setup; demo needs only the package, ~75 s less to install), the
# front-end packages from npm (web/package-lock.json) copied into the package for
# offline reports, and - when run as root - Debian's chromium (browser tests) and
# dump1090-mutability (real SBS/AVR/Beast captures replayed from an IQ recording).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

system_deps() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v dump1090-mutability >/dev/null 2>&1 || [ -x /usr/bin/dump1090-mutability ] || missing+=(dump1090-mutability)
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)  # pyspark parity tests
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "run.sh: installing ${missing[*]} from Debian"
    echo 'dump1090-mutability dump1090-mutability/auto-start boolean false' | debconf-set-selections
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-liberation >/dev/null
  else
    echo "run.sh: note: ${missing[*]} not installed (apt-get install ${missing[*]}); the tests that need them will say so" >&2
  fi
}

setup() {  # setup [dev]: the demo needs only the package; tests need the dev extras (pyspark, ...)
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  local extras=${1:-} spec=. stamp=.venv/.tailwatch-installed
  if [ -n "$extras" ]; then spec=".[$extras]"; stamp=".venv/.tailwatch-installed-$extras"; fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e "$spec"
    touch "$stamp" .venv/.tailwatch-installed
  fi
  local assets=src/tailwatch/report/assets
  if [ ! -f "$assets/.built" ] || [ web/package-lock.json -nt "$assets/.built" ]; then
    (cd web && npm ci --no-audit --no-fund --silent)
    .venv/bin/python -m tailwatch.report.assets web/node_modules "$assets"
  fi
}

case "${1:-}" in
  demo)
    setup
    shift
    exec .venv/bin/tailwatch demo "$@"
    ;;
  test)
    system_deps
    setup dev
    shift
    .venv/bin/ruff check src tests bench
    .venv/bin/mypy
    exec .venv/bin/python -m pytest -q "$@"
    ;;
  setup)
    system_deps
    setup dev
    ;;
  *)
    echo "usage: ./run.sh demo|test|setup" >&2
    exit 2
    ;;
esac
