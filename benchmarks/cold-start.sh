#!/usr/bin/env bash
# Each function's first result in a fresh process, published as shipped (ReadyToRun) and without ReadyToRun:
# the median of RUNS processes per function (Plan: a fresh 30-broker, 10-zone link; Startup: no call, the runtime's
# own start). Usage: benchmarks/cold-start.sh [RUNS]   (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
rid=linux-$(uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
out=${TMPDIR:-/tmp}/brokerlink-cold-start
for mode in ReadyToRun none; do
  r2r=$([ "$mode" = ReadyToRun ] && echo true || echo false)
  dotnet publish benchmarks/BrokerLink.Benchmarks -c Release -r "$rid" --self-contained false \
    -p:PublishReadyToRun="$r2r" -o "$out/$mode" -nologo -v quiet -clp:ErrorsOnly >&2
  dotnet "$out/$mode/BrokerLink.Benchmarks.dll" --plan-input 30 10 > "$out/plan-input.json"
  for function in Startup Triage Plan Summarise; do
    times=()
    for _ in $(seq "$runs"); do
      times+=("$(dotnet "$out/$mode/BrokerLink.Benchmarks.dll" --first-call "$function" "$out/plan-input.json" 2>&1 >/dev/null \
        | sed -E 's/.* ([0-9]+) ms .*/\1/')")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    echo "cold start ($mode, $rid): $function first result ${median} ms after process start (median of $runs: ${times[*]})"
  done
done
