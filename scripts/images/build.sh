#!/usr/bin/env bash
# `npm run images`: builds localhost/reco-api, localhost/reco-stream-worker and localhost/reco-web
# with podman, from a Debian root filesystem (no image registry is reachable) and the committed
# source (git archive HEAD: a fresh clone and this checkout build the same images).
#
#   base     mmdebstrap: Debian trixie minbase + nodejs (20.19) + ca-certificates, user reco (10001);
#            cached in ~/.cache/reco-tools/images/ and imported as localhost/reco-base.
#   build    per app, in .cache/images/<stage>: `npm ci` of that app's workspaces (the web one with
#            its dev dependencies, for `next build`; the backend one --omit=dev), the Prisma client
#            generated, then tests, docs and other platforms' native binaries removed.
#   runtime  Containerfile: FROM reco-base, the build stage's /app copied in, USER reco.
#
#   services localhost/reco-services: PostgreSQL, Redis, Kafka and s3proxy for deploy/compose.yaml.
#
# Usage: bash scripts/images/build.sh [api|stream-worker|web|services ...]   (default: all four)
# Environment: RECO_TOOLS_DIR (cache, default ~/.cache/reco-tools), IMAGE_TAG (default latest).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/scripts/images"
TOOLS_DIR="${RECO_TOOLS_DIR:-$HOME/.cache/reco-tools}"
BASE_TAR="$TOOLS_DIR/images/base-trixie.tar"
WORK="$ROOT/.cache/images"
TAG="${IMAGE_TAG:-latest}"
# This machine's cgroup layout (v1 + v2 "hybrid") is refused by crun, and its default ulimits
# cannot be raised: runc with explicit ulimits works (scripts/images/containers.conf).
export CONTAINERS_CONF="$HERE/containers.conf"

log() { echo "[images] $*" >&2; }
started=$SECONDS

need() {
  local missing=()
  for tool in podman runc mmdebstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if ((${#missing[@]})); then
    log "installing ${missing[*]} (Debian packages)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc mmdebstrap uidmap >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc mmdebstrap uidmap >/dev/null; }
  fi
}

build_base() {
  if [[ ! -f "$BASE_TAR" ]]; then
    log "base: mmdebstrap trixie (nodejs, ca-certificates)"
    mkdir -p "$(dirname "$BASE_TAR")"
    mmdebstrap --quiet --format=tar --variant=minbase --include=nodejs,ca-certificates \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --customize-hook='chroot "$1" useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin reco' \
      --customize-hook='mkdir -p "$1/app" "$1/data" && chown 10001:10001 "$1/data"' \
      trixie "$BASE_TAR.tmp" http://deb.debian.org/debian
    mv "$BASE_TAR.tmp" "$BASE_TAR"
  fi
  podman import --quiet "$BASE_TAR" localhost/reco-base:latest >/dev/null
}

# The committed tree, without what no image needs.
source_tree() {
  local target="$1"
  rm -rf "$target"
  mkdir -p "$target"
  git -C "$ROOT" archive HEAD | tar -x -C "$target"
  rm -rf "$target"/{data,docs,bench,terraform,deploy,.ci}
}

# Tests, type declarations' sources and other platforms' binaries have no use at run time.
slim() {
  local app="$1"
  find "$app" -path "$app/node_modules" -prune -o \( -name '*.test.ts' -o -name 'test' -type d \) -print0 |
    xargs -0 rm -rf
  rm -rf "$app"/node_modules/onnxruntime-node/bin/napi-v*/{darwin,win32} \
    "$app"/node_modules/onnxruntime-node/bin/napi-v*/linux/arm64
}

stage_backend() {
  local app="$WORK/backend/app"
  [[ -f "$WORK/backend/.done-$(git -C "$ROOT" rev-parse HEAD)" ]] && return 0
  log "build stage: api + stream worker production dependencies"
  source_tree "$app"
  rm -rf "$app/apps/web"
  (cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    --workspace=@reco/api --workspace=@reco/stream-worker >/dev/null)
  # The Prisma client is generated from prisma/schema.prisma (the prisma CLI is a production
  # dependency of a workspace package here, so it is in the tree).
  (cd "$app" && node scripts/postinstall.mjs >/dev/null)
  slim "$app"
  rm -f "$WORK"/backend/.done-*
  touch "$WORK/backend/.done-$(git -C "$ROOT" rev-parse HEAD)"
}

stage_web() {
  local build="$WORK/web-build/app" app="$WORK/web/app"
  [[ -f "$WORK/web/.done-$(git -C "$ROOT" rev-parse HEAD)" ]] && return 0
  log "build stage: dashboard (npm ci with dev dependencies, next build)"
  source_tree "$build"
  (cd "$build" && npm ci --ignore-scripts --no-audit --no-fund --workspace=@reco/web >/dev/null)
  (cd "$build" && NEXT_TELEMETRY_DISABLED=1 npx next build apps/web >/dev/null)
  log "runtime stage: dashboard production dependencies and the build output"
  source_tree "$app"
  (cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace=@reco/web >/dev/null)
  cp -r "$build/apps/web/.next" "$app/apps/web/.next"
  rm -rf "$app/apps/web/.next/cache" "$app"/apps/{api,stream-worker} "$build"
  slim "$app"
  rm -f "$WORK"/web/.done-*
  touch "$WORK/web/.done-$(git -C "$ROOT" rev-parse HEAD)"
}

# PostgreSQL, Redis, Kafka and s3proxy for the compose stack (no registry serves their images here).
build_services() {
  local tar="$TOOLS_DIR/images/services-trixie.tar"
  # (man pages stay: the JRE's postinst links its man page through update-alternatives)
  if [[ ! -f "$tar" ]]; then
    log "services base: mmdebstrap trixie (postgresql, redis-server, a headless JRE)"
    mmdebstrap --quiet --format=tar --variant=minbase \
      --include=postgresql,redis-server,default-jre-headless,ca-certificates \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --customize-hook='chroot "$1" useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin reco' \
      trixie "$tar.tmp" http://deb.debian.org/debian
    mv "$tar.tmp" "$tar"
  fi
  podman import --quiet "$tar" localhost/reco-services-base:latest >/dev/null
  # The jars Kafka and s3proxy run from, resolved from Maven Central as for the test services.
  bash "$ROOT/scripts/services.sh" fetch-kafka >/dev/null
  bash "$ROOT/scripts/services.sh" fetch-s3 >/dev/null
  log "image localhost/reco-services:$TAG"
  podman build --quiet --file "$HERE/services/Containerfile" --build-context "jars=$ROOT/.cache" \
    --tag "localhost/reco-services:$TAG" "$ROOT/scripts" >/dev/null
  podman image inspect "localhost/reco-services:$TAG" --format "[images] reco-services: {{.Size}} bytes" >&2
}

image() {
  local name="$1" stage="$2"
  log "image localhost/reco-$name:$TAG"
  podman build --quiet --file "$HERE/Containerfile" --target "$name" \
    --build-context "stage=$WORK/$stage" --tag "localhost/reco-$name:$TAG" "$HERE" >/dev/null
  podman image inspect "localhost/reco-$name:$TAG" --format "[images] reco-$name: {{.Size}} bytes" >&2
}

need
mkdir -p "$WORK"
build_base
apps=("$@")
((${#apps[@]})) || apps=(api stream-worker web services)
for name in "${apps[@]}"; do
  case "$name" in
    api | stream-worker)
      stage_backend
      image "$name" backend
      ;;
    web)
      stage_web
      image web web
      ;;
    services)
      build_services
      ;;
    *)
      log "unknown image $name (api, stream-worker, web, services)"
      exit 2
      ;;
  esac
done
podman images --filter reference='localhost/reco-*' >&2
log "done in $((SECONDS - started)) s"
