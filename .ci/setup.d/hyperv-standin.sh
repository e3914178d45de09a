#!/usr/bin/env bash
# Builds the stand-in `pwsh` the Hyper-V provider's tests drive (real
# PowerShell cannot be installed here): test/pwsh-standin/main.ts ->
# .peers/pwsh-standin/main.js. Does nothing when the build is newer than
# its source.
set -euo pipefail
src=test/pwsh-standin/main.ts
out=.peers/pwsh-standin/main.js
if [ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt test/pwsh-standin/tsconfig.json ]; then exit 0; fi
node node_modules/typescript/bin/tsc -p test/pwsh-standin/tsconfig.json
echo "setup-peers: built $out" >&2
