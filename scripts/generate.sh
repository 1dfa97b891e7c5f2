#!/usr/bin/env bash
# Regenerates libs/proto/src/gen from proto/ with buf + protoc-gen-es.
# --check: fail (exit 1) if the committed generated code differs from what the protos produce.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
if [[ "${1:-}" == "--check" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  sed "s#out: libs/proto/src/gen#out: $tmp/gen#" buf.gen.yaml > "$tmp/buf.gen.yaml"
  buf generate --template "$tmp/buf.gen.yaml"
  if ! diff -ru libs/proto/src/gen "$tmp/gen"; then
    echo "generated code in libs/proto/src/gen is stale: run 'npm run generate' and commit the result" >&2
    exit 1
  fi
  echo "generated code is up to date"
else
  buf lint
  buf generate
  echo "generated libs/proto/src/gen"
fi
