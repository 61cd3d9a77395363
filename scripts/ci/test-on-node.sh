#!/usr/bin/env bash
# Runs the jest suite on another Node major (default: 24, the LTS users run), next to the machine's
# Node, without touching the machine's Node or the native driver that `npm ci` built for it:
#
#   bash scripts/ci/test-on-node.sh [MAJOR] [extra jest args...]
#
# 1. Node MAJOR comes from the npm registry as the package node-linux-<arch>@MAJOR (the official
#    binary plus include/node), unpacked into $NODE_ALT_DIR (default: $TMPDIR/node-MAJOR).
# 2. The `zookeeper` addon is rebuilt for that Node's ABI in a copy of node_modules/zookeeper
#    ($NODE_ALT_DIR/zookeeper-addon) against the package's headers. node_modules/zookeeper/build
#    stays the machine Node's build, so a test run that is going on at the same time is not hurt.
#    node-gyp-build (which `zookeeper` loads its addon with) takes ZOOKEEPER_PREBUILD to mean
#    "load the addon from this package directory instead".
# 3. jest runs with the same command line as `npm test`, with Node MAJOR's bin first on PATH, so
#    that children spawned with process.execPath or `node` (fixtures, tsx) run on it too.
#
# Needs: `npm ci` done (python3/make/g++ for node-gyp), and `npm run zookeeper:ensure` /
# `npm run curator:ensure` done as `npm test` does first. Exits with jest's exit code.
set -euo pipefail

MAJOR="${1:-24}"
shift || true
[[ "$MAJOR" =~ ^[0-9]+$ ]] || {
  echo "usage: $0 [NODE_MAJOR] [jest args...]" >&2
  exit 2
}

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"
WORK="${NODE_ALT_DIR:-${TMPDIR:-/tmp}/node-$MAJOR}"
NODE_DIR="$WORK/node"
ADDON_DIR="$WORK/zookeeper-addon"
ZK_PKG="$REPO_ROOT/node_modules/zookeeper"

fail() {
  echo "test-on-node: ERROR: $*" >&2
  exit 1
}

[[ -f "$ZK_PKG/binding.gyp" ]] || fail "$ZK_PKG is missing: run npm ci first"
[[ -f node_modules/jest/bin/jest.js ]] || fail "node_modules/jest is missing: run npm ci first"

# --- 1. Node MAJOR from the npm registry ----------------------------------------------------
arch="$(node -p process.arch)"
pkg="node-$(node -p process.platform)-$arch@$MAJOR"
mkdir -p "$WORK"
if [[ ! -x "$NODE_DIR/bin/node" ]]; then
  echo "fetching $pkg from the npm registry"
  tgz="$(cd "$WORK" && npm pack "$pkg" --pack-destination "$WORK" --silent | tail -n1)"
  [[ -f "$WORK/$tgz" ]] || fail "npm pack $pkg produced no tarball"
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  tar -xzf "$WORK/$tgz" -C "$NODE_DIR" --strip-components=1
  rm -f "$WORK/$tgz"
fi
version="$("$NODE_DIR/bin/node" --version)"
[[ "$version" == "v$MAJOR."* ]] || fail "$NODE_DIR/bin/node is $version, not Node $MAJOR"
[[ -f "$NODE_DIR/include/node/node_api.h" && -f "$NODE_DIR/include/node/common.gypi" ]] ||
  fail "$pkg has no include/node: cannot build the native driver for it"
echo "node $MAJOR: $version ($NODE_DIR/bin/node)"

# --- 2. the native driver for Node MAJOR, in a copy ---------------------------------------
abi="$("$NODE_DIR/bin/node" -p process.versions.modules)"
stamp="$ADDON_DIR/.built-for"
want="$version $(cksum <"$ZK_PKG/package.json" | cut -d' ' -f1)"
if [[ ! -f "$ADDON_DIR/build/Release/zookeeper.node" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "building the zookeeper addon for $version (ABI $abi) in $ADDON_DIR"
  node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [[ -f "$node_gyp" ]] || fail "node-gyp (bundled with npm) not found at $node_gyp"
  rm -rf "$ADDON_DIR"
  mkdir -p "$ADDON_DIR"
  # binding.gyp's libzk action runs scripts/build.js, which (re)configures the C client in deps/:
  # hence a full copy of deps/, so that the original is not written to.
  cp -a "$ZK_PKG"/{package.json,binding.gyp,src,deps,scripts} "$ADDON_DIR/"
  # NODE_PATH: the copy lives outside node_modules, but gyp evaluates require('nan') and
  # scripts/build.js requires shelljs.
  log="$WORK/node-gyp.log"
  if ! (cd "$ADDON_DIR" &&
    PATH="$NODE_DIR/bin:$PATH" NODE_PATH="$REPO_ROOT/node_modules" npm_config_nodedir="$NODE_DIR" \
      "$NODE_DIR/bin/node" "$node_gyp" rebuild --nodedir="$NODE_DIR" --jobs="$(nproc)") >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    fail "node-gyp could not build the zookeeper addon for $version (full log above: $log)"
  fi
  echo "$want" >"$stamp"
fi
export ZOOKEEPER_PREBUILD="$ADDON_DIR"
loaded="$("$NODE_DIR/bin/node" -e "require('zookeeper'); console.log(require('node-gyp-build').path('$ZK_PKG'))")" ||
  fail "the zookeeper addon built for $version does not load"
echo "native driver for $version: $loaded"

# --- 3. the suite -------------------------------------------------------------------------
export PATH="$NODE_DIR/bin:$PATH"
[[ "$(node --version)" == "$version" ]] || fail "PATH does not resolve node to $version"
echo "jest on $(node --version): node --experimental-vm-modules node_modules/jest/bin/jest.js $*"
exec node --experimental-vm-modules node_modules/jest/bin/jest.js "$@"
