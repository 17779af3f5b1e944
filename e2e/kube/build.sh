#!/usr/bin/env bash
# Builds etcd v3.7.0, kube-apiserver v1.37.2 and kubectl v1.37.2 from the Go
# module proxy (through the wrapper module next to this script) into a cache
# directory keyed by version, and prints that directory on stdout (last line).
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/ktrail/k8s-v1.37.2-etcd-v3.7.0/{etcd,kube-apiserver,kubectl}
#
# When the three binaries are already there and answer --version, nothing is
# built (about 0 s). A cold build takes about 6 min on 2 idle cores, 12 on busy ones (most of it
# kube-apiserver) and grows GOCACHE by about 3 GB. Works with GOFLAGS=-mod=readonly:
# go.mod and go.sum are complete. Progress goes to stderr.
#
# Environment: KTRAIL_E2E_KUBE_CACHE overrides the cache directory.
set -euo pipefail

K8S=v1.37.2
ETCD=v3.7.0
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${KTRAIL_E2E_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ktrail/k8s-$K8S-etcd-$ETCD}

log() { printf 'kube/build.sh: %s\n' "$*" >&2; }

# ok DIR: the three binaries are in DIR, run, and report the expected versions.
# (The outputs are captured first: `cmd | grep -q` can fail under pipefail when
# grep exits before cmd has written everything and cmd dies of SIGPIPE.)
ok() {
  local d=$1 v
  [ -x "$d/etcd" ] && [ -x "$d/kube-apiserver" ] && [ -x "$d/kubectl" ] || return 1
  v=$("$d/kube-apiserver" --version 2>/dev/null) && [[ $v == "Kubernetes $K8S" ]] || return 1
  v=$("$d/kubectl" version --client 2>/dev/null) && [[ $v == *"Client Version: $K8S"* ]] || return 1
  v=$("$d/etcd" --version 2>/dev/null) && [[ $v == *"etcd Version: ${ETCD#v}"* ]] || return 1
}

if ok "$bin"; then
  log "cached: $bin"
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { log "go not found in PATH"; exit 1; }
log "building etcd $ETCD, kube-apiserver $K8S, kubectl $K8S into $bin (about 6 min with a cold Go build cache on 2 idle cores)"
mkdir -p "$(dirname "$bin")"
# Build into a fresh directory next to the target and rename it at the end, so an
# interrupted or concurrent build never leaves a half-filled cache directory.
tmp=$(mktemp -d "$bin.tmp.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

cd "$here"
export GOWORK=off CGO_ENABLED=0
minor=${K8S#v1.}; minor=${minor%%.*}
ldf="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldf="$ldf -X $pkg.gitVersion=$K8S -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
done
ldf="$ldf -X k8s.io/component-base/version.gitTreeState=clean"

t0=$SECONDS
build() { # build NAME PACKAGE LDFLAGS
  local s=$SECONDS
  go build -trimpath -ldflags "$3" -o "$tmp/$1" "$2"
  log "$1 built in $((SECONDS - s))s"
}
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$ldf"
build kubectl k8s.io/kubernetes/cmd/kubectl "$ldf"
build etcd go.etcd.io/etcd/server/v3 "-s -w"

ok "$tmp" || { log "the built binaries do not report the expected versions"; exit 1; }
rm -rf "$bin.old"
if [ -e "$bin" ]; then mv "$bin" "$bin.old"; fi
mv "$tmp" "$bin"
rm -rf "$bin.old"
trap - EXIT
log "done in $((SECONDS - t0))s: $bin"
echo "$bin"
