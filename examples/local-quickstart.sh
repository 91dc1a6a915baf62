#!/usr/bin/env bash
# The README quick start: on the embedded local backend, in a throw-away directory, set up a store,
# put a secret, read it back, and run a child process with the secret in its environment.
set -euo pipefail
# Works from a clone of the repository (installing and building first when needed) and from the
# installed npm package (node_modules/credexec/examples), which ships built and has no sources.
here=$(cd "$(dirname "$0")/.." && pwd)

if [ -d "$here/src" ]; then
  cd "$here"
  if [ ! -d node_modules ]; then
    echo "# installing dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  # Build unless the bundle is newer than every source file.
  if [ ! -f dist/bundle/credexec.cjs ] || [ -n "$(find src scripts package.json -newer dist/bundle/credexec.cjs -print -quit)" ]; then
    npm run --silent build
  fi
fi

demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
export CREDEXEC_BACKEND=local CREDEXEC_LOCAL_DIR="$demo/store"
credexec() { node "$here/bin/credexec.cjs" "$@"; }
step() { printf '\n$ %s\n' "$*"; }

step credexec setup
credexec setup

step "printf %s 'correct horse battery staple' | credexec put demo.db.password - env=demo"
printf %s 'correct horse battery staple' | credexec put demo.db.password - env=demo

step credexec get demo.db.password env=demo
credexec get demo.db.password env=demo

printf 'DB_PASSWORD=demo.db.password\n' > "$demo/credexec.env"
step "credexec check -m credexec.env --context env=demo"
credexec check -m "$demo/credexec.env" --context env=demo

step "credexec -m credexec.env --context env=demo -- node examples/demo-app.js DB_PASSWORD"
credexec -m "$demo/credexec.env" --context env=demo -- node "$here/examples/demo-app.js" DB_PASSWORD
