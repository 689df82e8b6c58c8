#!/usr/bin/env bash
# Builds the envtest binaries (kube-apiserver, etcd, kubectl) from source through the Go module
# proxy and caches them outside the clone, keyed by version, so later clones and CI reuse them.
# Idempotent: a complete cache entry is left alone. Prints the asset directory on stdout.
#
#   hack/envtest-assets.sh            build if missing, print the directory
#   hack/envtest-assets.sh --print    print the directory only (no build)
set -euo pipefail

K8S_VERSION=1.36.3
ETCD_VERSION=3.6.8
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}
dir="$cache/servingsim/envtest/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-$(go env GOOS)-$(go env GOARCH)"

if [ "${1:-}" = "--print" ]; then echo "$dir"; exit 0; fi
if [ -x "$dir/kube-apiserver" ] && [ -x "$dir/etcd" ] && [ -x "$dir/kubectl" ] && [ -f "$dir/.complete" ]; then
  echo "$dir"; exit 0
fi

mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Unstamped builds report v0.0.0-master, which clients reject as too old; stamp the version.
minor=$(echo "$K8S_VERSION" | cut -d. -f2)
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

cd "$root/tools/envtest"
echo "building envtest binaries (k8s $K8S_VERSION, etcd $ETCD_VERSION) into $dir; the first build takes about 10 minutes" >&2
export CGO_ENABLED=0
go build -trimpath -ldflags "-s -w $stamp" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
go build -trimpath -ldflags "-s -w $stamp" -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
mv "$tmp/kube-apiserver" "$tmp/kubectl" "$tmp/etcd" "$dir/"
touch "$dir/.complete"
echo "$dir"
