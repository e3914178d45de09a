#!/usr/bin/env bash
# Builds test/vcsim (Vigil's harness around VMware's vcsim) into
# .peers/vcsim/vigil-vcsim, offline, from Debian's govmomi package. Does
# nothing when the binary is newer than its source.
set -euo pipefail
out=.peers/vcsim/vigil-vcsim
src=test/vcsim/main.go
if [ -x "$out" ] && [ "$out" -nt "$src" ]; then exit 0; fi
if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ]; then
  echo "setup.d/vsphere: go or govmomi missing (apt-get install golang-go golang-github-vmware-govmomi-dev); vSphere tests will fail" >&2
  exit 0
fi
mkdir -p "$(dirname "$out")"
echo "setup.d/vsphere: building $out" >&2
export GOCACHE="${GOCACHE:-$PWD/.peers/go-cache}"
(cd test/vcsim && GOPATH=/usr/share/gocode GO111MODULE=off go build -o "../../$out.tmp" .)
mv "$out.tmp" "$out"
