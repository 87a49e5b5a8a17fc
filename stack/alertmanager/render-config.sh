#!/bin/sh
# Renders the Alertmanager config, then runs the given command (Alertmanager). Each line ending in
# "# env: NAME" gets the value of the environment variable NAME, so no secret is kept in the repository.
# Usage: render-config.sh <template> <output> [command...]
set -eu
template=$1
output=$2
shift 2
umask 077
awk -v q="'" '
  match($0, /# env: [A-Za-z_][A-Za-z0-9_]*$/) {
    name = substr($0, RSTART + 7)
    if (!(name in ENVIRON)) { printf "render-config: %s is not set\n", name > "/dev/stderr"; failed = 1; next }
    value = ENVIRON[name]
    if (index(value, "\n") > 0) { printf "render-config: %s spans lines\n", name > "/dev/stderr"; failed = 1; next }
    gsub(q, q q, value)
    gsub(/[\\&]/, "\\\\&", value)
    sub(/: .*$/, ": " q value q)
  }
  { print }
  END { exit failed }
' "$template" >"$output"
if [ "$#" -gt 0 ]; then exec "$@"; fi
