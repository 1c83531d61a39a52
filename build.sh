#!/usr/bin/env bash
# BrokerLink's one entry point: ./build.sh demo | test | localcloud [--port N] | build
set -euo pipefail
cd "$(dirname "$0")"

ARTIFACTS=.artifacts
PYTHON=${PYTHON:-python3}

log() { printf '%s\n' "$*" >&2; }

ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    log "error: the .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH"
    exit 2
  fi
}

ensure_python() {
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    log "error: python3 (3.11+) is required for the local cloud"
    exit 2
  fi
  if ! "$PYTHON" -c 'import moto, boto3, flask, flask_cors, yaml, cfnlint, samtranslator' >/dev/null 2>&1; then
    log "installing the local cloud's Python requirements (localcloud/requirements.txt)"
    "$PYTHON" -m pip install --quiet -r localcloud/requirements.txt 1>&2
  fi
}

build() {
  ensure_dotnet
  log "building (Release)"
  dotnet build BrokerLink.slnx -c Release -nologo -v quiet -clp:ErrorsOnly 1>&2
}

# Prints "tests: N passed, N failed" from the real runs: the TRX of dotnet test
# and the JSON summary of the local-cloud unittest run.
summarise() {
  "$PYTHON" - "$ARTIFACTS/test-results" <<'PY'
import glob, json, os, sys
import xml.etree.ElementTree as ET
root = sys.argv[1]
passed = failed = 0
for trx in glob.glob(os.path.join(root, "*.trx")):
    counters = ET.parse(trx).getroot().find(".//{*}ResultSummary/{*}Counters")
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0)) + int(counters.get("aborted", 0))
py = os.path.join(root, "localcloud.json")
if os.path.exists(py):
    s = json.load(open(py))
    passed += s["passed"]
    failed += s["failed"] + s["errors"]
print(f"tests: {passed} passed, {failed} failed")
PY
}

run_tests() {
  ensure_python
  build
  rm -rf "$ARTIFACTS/test-results"
  mkdir -p "$ARTIFACTS/test-results"
  local status=0
  log "unit tests (dotnet test)"
  dotnet test tests/BrokerLink.Tests -c Release --no-build -nologo \
    --logger "trx;LogFileName=unit.trx" --results-directory "$ARTIFACTS/test-results" || status=1
  log "local-cloud tests (python unittest)"
  "$PYTHON" tests/localcloud/run.py --summary "$ARTIFACTS/test-results/localcloud.json" || status=1
  summarise
  return $status
}

cmd=${1:-}
shift || true
case "$cmd" in
  build) build ;;
  test) run_tests ;;
  localcloud) ensure_python; build; exec "$PYTHON" localcloud/launcher.py "$@" ;;
  demo) ensure_python; build; exec "$PYTHON" localcloud/demo.py "$@" ;;
  *)
    log "usage: ./build.sh demo | test | localcloud [--port N] | build"
    exit 2 ;;
esac
