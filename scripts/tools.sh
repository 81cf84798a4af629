#!/usr/bin/env bash
# The infrastructure tools the suite checks terraform/ and deploy/ with, built once into a cache
# outside the repository (RECO_TOOLS_DIR, default ~/.cache/reco-tools) so later runs are instant:
#   - OpenTofu, built from its Go module (the Go module proxy is the only source reachable here);
#   - the hashicorp/kubernetes provider, built from its Go module and laid out as a filesystem
#     mirror, with a CLI config (tofurc) that installs providers from that mirror only;
#   - promtool, from Debian's prometheus package (unpacked, the server is never run).
# Usage: bash scripts/tools.sh          build what is missing, print where it is
#        bash scripts/tools.sh env      print `export` lines (TOFU, PROMTOOL, TF_CLI_CONFIG_FILE)
set -euo pipefail

TOOLS_DIR="${RECO_TOOLS_DIR:-$HOME/.cache/reco-tools}"
TOFU_VERSION=1.10.10
# The newest hashicorp/kubernetes release published as a Go module: later tags keep the module
# path without /v2, so the module proxy serves none of them (terraform/versions.tf says so too).
KUBERNETES_PROVIDER_VERSION=1.13.4
OS_ARCH="$(go env GOOS 2>/dev/null || echo linux)_$(go env GOARCH 2>/dev/null || echo amd64)"

TOFU="$TOOLS_DIR/bin/tofu-$TOFU_VERSION"
MIRROR="$TOOLS_DIR/providers"
PROVIDER_DIR="$MIRROR/registry.opentofu.org/hashicorp/kubernetes/$KUBERNETES_PROVIDER_VERSION/$OS_ARCH"
PROVIDER="$PROVIDER_DIR/terraform-provider-kubernetes_v$KUBERNETES_PROVIDER_VERSION"
TOFURC="$TOOLS_DIR/tofurc"
PROMTOOL="$TOOLS_DIR/prometheus/usr/bin/promtool"

print_env() {
  echo "export RECO_TOOLS_DIR='$TOOLS_DIR'"
  echo "export TOFU='$TOFU'"
  echo "export PROMTOOL='$PROMTOOL'"
  echo "export TF_CLI_CONFIG_FILE='$TOFURC'"
}

if [[ "${1:-}" == "env" ]]; then
  print_env
  exit 0
fi

log() { echo "[tools] $*" >&2; }
need_go() {
  command -v go >/dev/null || {
    log "go is not on PATH (install Go >= 1.24 first)"
    exit 1
  }
}

# `go install module@version` refuses modules whose go.mod has replace directives (both of these
# have), so each is built from a writable copy of its module source, as the main module.
module_copy() {
  local module="$1" version="$2" target="$3" dir
  dir="$(go mod download -json "$module@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$dir" ]] || {
    log "go mod download $module@$version gave no source directory"
    exit 1
  }
  rm -rf "$target"
  mkdir -p "$(dirname "$target")"
  cp -r "$dir/." "$target"
  chmod -R u+w "$target"
}

build_tofu() {
  need_go
  local src="$TOOLS_DIR/src/opentofu"
  local started=$SECONDS
  log "building OpenTofu $TOFU_VERSION from its Go module (a few minutes on a fresh machine)"
  module_copy github.com/opentofu/opentofu "v$TOFU_VERSION" "$src"
  mkdir -p "$(dirname "$TOFU")"
  (cd "$src" && go build -trimpath -o "$TOFU.tmp" ./cmd/tofu)
  mv "$TOFU.tmp" "$TOFU"
  rm -rf "$src"
  log "OpenTofu built in $((SECONDS - started)) s"
}

build_kubernetes_provider() {
  need_go
  local src="$TOOLS_DIR/src/terraform-provider-kubernetes"
  local started=$SECONDS
  log "building hashicorp/kubernetes $KUBERNETES_PROVIDER_VERSION from its Go module"
  module_copy github.com/hashicorp/terraform-provider-kubernetes "v$KUBERNETES_PROVIDER_VERSION" "$src"
  # Its vendor/ is incomplete in the module zip (modules are fetched instead), and kubectl 0.19
  # needs vbom.ml/util, whose vanity host is gone: a two-line shim forwards its one package to the
  # library's current home, github.com/fvbommel/sortorder.
  rm -rf "$src/vendor"
  mkdir -p "$src/_shims/vbomutil/sortorder"
  cat >"$src/_shims/vbomutil/go.mod" <<'EOF'
module vbom.ml/util

go 1.15

require github.com/fvbommel/sortorder v1.0.1
EOF
  cat >"$src/_shims/vbomutil/sortorder/natsort.go" <<'EOF'
// Package sortorder forwards to github.com/fvbommel/sortorder, the new home of vbom.ml/util/sortorder.
package sortorder

import upstream "github.com/fvbommel/sortorder"

type Natural = upstream.Natural

func NaturalLess(str1, str2 string) bool { return upstream.NaturalLess(str1, str2) }
EOF
  echo 'replace vbom.ml/util => ./_shims/vbomutil' >>"$src/go.mod"
  mkdir -p "$PROVIDER_DIR"
  (cd "$src" && go build -mod=mod -trimpath -o "$PROVIDER.tmp" .)
  mv "$PROVIDER.tmp" "$PROVIDER"
  rm -rf "$src"
  log "kubernetes provider built in $((SECONDS - started)) s"
}

write_tofurc() {
  cat >"$TOFURC" <<EOF
# Written by scripts/tools.sh: providers come from the local mirror only (no registry is reachable).
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.opentofu.org/*/*"]
  }
}
EOF
}

fetch_promtool() {
  local work="$TOOLS_DIR/src/prometheus"
  log "unpacking promtool from Debian's prometheus package"
  rm -rf "$work" "$TOOLS_DIR/prometheus"
  mkdir -p "$work"
  # apt-get download needs the package lists; refresh them once if the package is not found.
  (cd "$work" && { apt-get download prometheus 2>/dev/null || { apt-get update -qq && apt-get download prometheus; }; })
  dpkg -x "$work"/prometheus_*.deb "$TOOLS_DIR/prometheus.tmp"
  mv "$TOOLS_DIR/prometheus.tmp" "$TOOLS_DIR/prometheus"
  rm -rf "$work"
}

mkdir -p "$TOOLS_DIR"
[[ -x "$TOFU" ]] || build_tofu
[[ -x "$PROVIDER" ]] || build_kubernetes_provider
[[ -f "$TOFURC" ]] || write_tofurc
[[ -x "$PROMTOOL" ]] || fetch_promtool
log "ready: $(TF_CLI_CONFIG_FILE="$TOFURC" "$TOFU" version | head -1), kubernetes provider $KUBERNETES_PROVIDER_VERSION, $("$PROMTOOL" --version 2>&1 | head -1)"
print_env
