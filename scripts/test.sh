#!/usr/bin/env bash
# All the tests: installs what they need, then type-checks, lints and runs
# every test file. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm packages: install when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install`, not `npm ci`: the registry here serves only this platform's optional packages,
  # so the lock file cannot list the others and `npm ci` would refuse it as out of sync.
  npm install --no-audit --no-fund
fi
# Debian packages the integration tests need (mosquitto, socat, iproute2, ...).
bash scripts/ensure-system-deps.sh

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit
echo "== lint"
npx biome check .
echo "== tests"
node scripts/run-tests.mjs "$@"
