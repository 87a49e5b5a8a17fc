#!/bin/sh
# In-place deploy of one version of the app and worker, gated on /ready, with automatic rollback.
# Usage (from the repository root, on the host): stack/deploy.sh <version>
#   DOSSIER_IMAGE   image repository (default dossier): a registry path is pulled, a local name must
#                   have been built (docker compose build app with DOSSIER_VERSION=<version>)
#   DEPLOY_TIMEOUT  seconds /ready may take after the start (default 180); DEPLOY_INTERVAL between checks
#   COMPOSE         the compose command (default: docker compose -f stack/docker-compose.yml --env-file stack/.env)
# Images are tagged by version and kept, so the previous one is there to roll back to. The version that
# runs is recorded in stack/.deployed and as DOSSIER_VERSION in stack/.env (so a reboot starts it).
# Exit 0: deployed; 1: the new version failed and the previous one runs again; 2: the rollback
# failed too (act now); 64: usage.
set -eu

version=${1:-}
state=${DEPLOY_STATE:-stack/.deployed}
env_file=${DEPLOY_ENV_FILE:-stack/.env}
timeout=${DEPLOY_TIMEOUT:-180}
interval=${DEPLOY_INTERVAL:-3}
compose=${COMPOSE:-docker compose -f stack/docker-compose.yml --env-file stack/.env}
image=${DOSSIER_IMAGE:-dossier}

log() { printf '%s deploy: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }

case "$version" in
  '' | latest | *[!A-Za-z0-9._-]*)
    log "usage: $0 <version> (a tag such as v1.4.2; not latest)"
    exit 64
    ;;
esac

previous=$(cat "$state" 2>/dev/null || true)
if [ "$previous" = "$version" ]; then
  log "$version already runs"
  exit 0
fi

# The version that runs now, for the next deploy's rollback and for the next boot.
record() {
  printf '%s\n' "$1" >"$state"
  if [ -f "$env_file" ]; then
    sed "s/^DOSSIER_VERSION=.*/DOSSIER_VERSION=$1/" "$env_file" >"$env_file.tmp" && mv "$env_file.tmp" "$env_file"
  fi
}

# Starts app and worker at a version, nothing else (the data stores and monitoring keep running).
start() {
  DOSSIER_VERSION=$1 $compose up -d --no-deps --no-build app worker
}

# /ready from inside the app container, with the image's own node: 200 once the database answers and
# migrations are applied.
ready() {
  deadline=$(($(date +%s) + timeout))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if DOSSIER_VERSION=$1 $compose exec -T app node -e \
      "fetch('http://127.0.0.1:4000/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
      return 0
    fi
    sleep "$interval"
  done
  return 1
}

case "$image" in
  */*) DOSSIER_VERSION=$version $compose pull app worker ;;
  *) docker image inspect "$image:$version" >/dev/null || {
    log "image $image:$version is missing: build it first"
    exit 64
  } ;;
esac

log "starting $version (previous: ${previous:-none})"
start "$version"
if ready "$version"; then
  record "$version"
  log "$version is ready"
  exit 0
fi

if [ -z "$previous" ]; then
  log "$version is not ready after ${timeout}s and there is no previous version to roll back to"
  exit 2
fi
log "$version is not ready after ${timeout}s: rolling back to $previous"
start "$previous"
if ready "$previous"; then
  log "rolled back: $previous runs again"
  exit 1
fi
log "rollback to $previous is not ready either: act now (docs/operations.md, Deploy and roll back)"
exit 2
