#!/usr/bin/env bash
# The demo FHIR server for the CDS Hooks sandbox (docs/sandbox.md), in one command:
#
#   scripts/demo-fhir-server.sh [--port N] [--date YYYY-MM-DD]
#
# Builds the demo patients for today (scripts/build-demo.py; dates relative to --date), installs
# the project's test FHIR server once (tests/fhir-server: npm ci, Node 22 from npm), and runs it
# in demo mode on http://localhost:8090/fhir (--port, or env PORT; 0 picks a free port): an R4
# CapabilityStatement at /metadata, CORS for any origin, running until you stop it (Ctrl-C),
# whether or not a terminal is attached. The data lives in memory: a restart reloads the demo
# patients as built. Needs python3 and Node.js/npm. No Docker.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${PORT:-8090}"
day=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --date) day="${2:?--date needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

out="$root/target/demo-fhir"
mkdir -p "$out"
bundle="$out/jak-sle-demo.json"
python3 "$root/scripts/build-demo.py" ${day:+"$day"} --out "$bundle" >&2

server="$root/tests/fhir-server"
if [ ! -x "$server/node_modules/.bin/node" ]; then
  echo "installing the test FHIR server (npm ci in tests/fhir-server, once)" >&2
  (cd "$server" && npm ci --no-audit --no-fund >&2)
fi

cd "$server"
exec node_modules/.bin/node server.mjs "$bundle" --port "$port" --base /fhir --demo
