#!/usr/bin/env bash
# Proves that libs/zookeeper is a real, publishable npm package:
#   1. builds it from a clean dist/ and packs it with `npm pack -w nestjs-zookeeper`;
#   2. checks the tarball's contents (built entry points + typings, README, no sources/specs,
#      every "exports" target present);
#   3. installs the tarball into a brand-new Nest 12 ESM app OUTSIDE the repo (under /tmp, copied
#      from scripts/check-package/template/) WITHOUT optional dependencies, i.e. without the native
#      `zookeeper` driver, as on a machine with no C++ toolchain: the default 'wire' driver must
#      be all the app needs, and asking for 'native' must fail with a typed error;
#   4. type-checks a tiny main.ts against the installed typings and runs the compiled JS
#      against a real ZooKeeper started with `nestjs-zookeeper/testing`.
#
# Usage: bash scripts/check-package.sh
# Env:   KEEP_PACK_CHECK_DIR=1   keep the temp app for inspection
#        SKIP_ZK_ENSURE=1        don't run `npm run zookeeper:ensure` first (.ci/run already did)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB_DIR="$REPO_ROOT/libs/zookeeper"
TEMPLATE_DIR="$REPO_ROOT/scripts/check-package/template"
PKG_NAME="nestjs-zookeeper"
cd "$REPO_ROOT"

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
T0=$(date +%s)
STEP_T0=$T0
STEP_NAME=""
TIMINGS=()

step() {
  local now
  now=$(date +%s)
  if [[ -n "$STEP_NAME" ]]; then
    TIMINGS+=("$(printf '%4ss  %s' "$((now - STEP_T0))" "$STEP_NAME")")
  fi
  STEP_NAME="$1"
  STEP_T0=$now
  printf '\n--- check-package: %s\n' "$1"
}

fail() {
  printf '\ncheck-package: FAILED: %s\n' "$*" >&2
  exit 1
}

WORK="$(mktemp -d /tmp/nestjs-zk-pack-check.XXXXXX)"
# Marker inherited by everything the temp app starts, so we can find (only) our own ZooKeeper.
RUN_MARKER="NESTJS_ZK_PACK_CHECK_RUN=$(basename "$WORK")"

kill_our_zookeepers() {
  local pid cmd
  for pid in $(pgrep -x java 2>/dev/null || true); do
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    [[ "$cmd" == *ZooKeeperServerMain* || "$cmd" == *QuorumPeerMain* ]] || continue
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "$RUN_MARKER" ||
      [[ "$cmd" == *"$WORK"* ]]; then
      echo "check-package: stopping leftover ZooKeeper started by this check (pid $pid)" >&2
      kill "$pid" 2>/dev/null || true
      sleep 1
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
}

on_exit() {
  local rc=$?
  kill_our_zookeepers
  if [[ "${KEEP_PACK_CHECK_DIR:-}" == 1 || ($rc -ne 0 && -d "$WORK/app") ]]; then
    echo "check-package: temp app kept at $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  local now
  now=$(date +%s)
  [[ -n "$STEP_NAME" ]] && TIMINGS+=("$(printf '%4ss  %s' "$((now - STEP_T0))" "$STEP_NAME")")
  echo
  echo "check-package timings:"
  printf '  %s\n' "${TIMINGS[@]}"
  printf '  %4ss  total\n' "$((now - T0))"
  exit $rc
}
trap on_exit EXIT

installed_version() {
  # shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
  # The exact version the repo has installed (hoisted to the root node_modules), e.g. 12.5.1.
  node -e '
    const fs = require("node:fs");
    const [name, root] = process.argv.slice(1);
    try {
      const pkg = JSON.parse(fs.readFileSync(`${root}/node_modules/${name}/package.json`, "utf8"));
      process.stdout.write(pkg.version);
    } catch {
      console.error(`check-package: ${name} is not installed in ${root}/node_modules (run npm ci)`);
      process.exit(1);
    }' "$1" "$REPO_ROOT"
}

# ---------------------------------------------------------------------------------------------
step "preflight"
# ---------------------------------------------------------------------------------------------
[[ -f "$LIB_DIR/package.json" ]] || fail "$LIB_DIR/package.json not found"
[[ -f "$LIB_DIR/README.md" ]] ||
  fail "libs/zookeeper/README.md is missing: it is the package's npm page and is listed in \"files\"."
[[ -f "$LIB_DIR/src/index.ts" ]] || fail "libs/zookeeper/src/index.ts (entry point \".\") is missing"
[[ -f "$LIB_DIR/src/testing/index.ts" ]] ||
  fail "libs/zookeeper/src/testing/index.ts (entry point \"./testing\") is missing"
for f in package.template.json tsconfig.json src/main.ts; do
  [[ -f "$TEMPLATE_DIR/$f" ]] || fail "the consumer app's template $TEMPLATE_DIR/$f is missing"
done

# ---------------------------------------------------------------------------------------------
step "build library (clean dist/)"
# ---------------------------------------------------------------------------------------------
# A clean build so stale files from deleted sources can never end up in the tarball.
rm -rf "$LIB_DIR/dist"
npm run --silent build:lib || fail "npm run build:lib failed (see the compiler errors above)"

# ---------------------------------------------------------------------------------------------
step "npm pack"
# ---------------------------------------------------------------------------------------------
mkdir -p "$WORK/pack"
npm pack -w "$PKG_NAME" --pack-destination "$WORK/pack" --json >"$WORK/pack/pack.json" ||
  fail "npm pack -w $PKG_NAME failed"
TARBALL="$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  process.stdout.write(r[0].filename);' "$WORK/pack/pack.json")"
TARBALL_PATH="$WORK/pack/$(basename "$TARBALL")"
[[ -f "$TARBALL_PATH" ]] || fail "npm pack reported $TARBALL but it is not in $WORK/pack"
echo "tarball: $(basename "$TARBALL_PATH") ($(du -k "$TARBALL_PATH" | cut -f1) KiB)"

# ---------------------------------------------------------------------------------------------
step "tarball contents"
# ---------------------------------------------------------------------------------------------
tar -tzf "$TARBALL_PATH" | sed 's#^package/##' | sort >"$WORK/pack/files.txt"
echo "$(wc -l <"$WORK/pack/files.txt") files"

problems=()
for f in package.json README.md dist/index.js dist/index.d.ts dist/testing/index.js \
  dist/testing/index.d.ts dist/dashboard/assets/index.html dist/dashboard/assets/app.js \
  dist/dashboard/assets/app.css dist/dashboard/assets/vendor/uPlot.iife.min.js \
  dist/dashboard/assets/vendor/uPlot.min.css; do
  grep -qxF "$f" "$WORK/pack/files.txt" || problems+=("missing required file: $f")
done
# Every module and stylesheet of the dashboard page (the page loads them by name).
for asset in libs/zookeeper/src/dashboard/assets/*.{js,css,html}; do
  f="dist/dashboard/assets/$(basename "$asset")"
  grep -qxF "$f" "$WORK/pack/files.txt" || problems+=("missing dashboard asset: $f")
done
while IFS= read -r f; do problems+=("must not be published: $f"); done < <(
  grep -E '(^|/)src/|\.spec\.|\.e2e-spec\.|\.test\.|(^|/)__tests__/|\.tsbuildinfo$|(^|/)tsconfig[^/]*\.json$' \
    "$WORK/pack/files.txt" || true
)
# Every target named in "exports" (and main/types) must be inside the tarball.
while IFS= read -r f; do
  grep -qxF "$f" "$WORK/pack/files.txt" || problems+=("package.json points at $f, which is not in the tarball")
done < <(tar -xzOf "$TARBALL_PATH" package/package.json | node -e '
  const pkg = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const out = new Set();
  const walk = (v) => {
    if (typeof v === "string") out.add(v.replace(/^\.\//, ""));
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(pkg.exports); walk(pkg.main); walk(pkg.types); walk(pkg.typings);
  for (const f of out) if (!f.includes("*")) console.log(f);')
if ((${#problems[@]})); then
  printf '  %s\n' "${problems[@]}" >&2
  echo "tarball file list: $WORK/pack/files.txt" >&2
  fail "the packed tarball is not publishable as is (${#problems[@]} problem(s) above)"
fi
echo "required files present; no sources, specs or tsconfig files"

# ---------------------------------------------------------------------------------------------
step "create consumer app in $WORK/app"
# ---------------------------------------------------------------------------------------------
APP="$WORK/app"
mkdir -p "$APP/src"
cp "$TARBALL_PATH" "$APP/"
V_COMMON="$(installed_version @nestjs/common)"
V_CORE="$(installed_version @nestjs/core)"
V_MICROSERVICES="$(installed_version @nestjs/microservices)"
V_PLATFORM_EXPRESS="$(installed_version @nestjs/platform-express)"
V_RXJS="$(installed_version rxjs)"
V_REFLECT="$(installed_version reflect-metadata)"
V_TS="$(installed_version typescript)"
V_TYPES_NODE="$(installed_version @types/node)"

# The app's files live in scripts/check-package/template/ (type-checked and linted with the repo).
# npm 11: install scripts of dependencies run only when allowed, and `--allow-scripts` on the
# command line is rejected for project installs, so the policy is in the template's package.json,
# whose versions are filled in here from what the repo has installed.
sed -e "s|@NESTJS_COMMON_VERSION@|$V_COMMON|" \
  -e "s|@NESTJS_CORE_VERSION@|$V_CORE|" \
  -e "s|@NESTJS_MICROSERVICES_VERSION@|$V_MICROSERVICES|" \
  -e "s|@NESTJS_PLATFORM_EXPRESS_VERSION@|$V_PLATFORM_EXPRESS|" \
  -e "s|@TARBALL@|$(basename "$TARBALL_PATH")|" \
  -e "s|@REFLECT_METADATA_VERSION@|$V_REFLECT|" \
  -e "s|@RXJS_VERSION@|$V_RXJS|" \
  -e "s|@TYPES_NODE_VERSION@|$V_TYPES_NODE|" \
  -e "s|@TYPESCRIPT_VERSION@|$V_TS|" \
  "$TEMPLATE_DIR/package.template.json" >"$APP/package.json"
if grep -n '@[A-Z_]*@' "$APP/package.json" >&2; then
  fail "a placeholder of $TEMPLATE_DIR/package.template.json was not filled in (above)"
fi
# What a Nest 12 ESM application would use; skipLibCheck is OFF on purpose in its tsconfig.json so
# that the library's published .d.ts files are type-checked too. main.ts checks the published
# typings through its annotations, then runs against a real ZooKeeper.
cp "$TEMPLATE_DIR/tsconfig.json" "$APP/tsconfig.json"
cp "$TEMPLATE_DIR/src/main.ts" "$APP/src/main.ts"

# ---------------------------------------------------------------------------------------------
step "npm install in the consumer app, without optional dependencies (no native driver)"
# ---------------------------------------------------------------------------------------------
(cd "$APP" && npm install --omit=optional --prefer-offline --no-audit --no-fund --loglevel=warn) ||
  fail "npm install of the packed tarball into a fresh app failed"
[[ ! -e "$APP/node_modules/zookeeper" ]] ||
  fail "node_modules/zookeeper was installed with --omit=optional: the native driver must be an optional dependency of $PKG_NAME"
if [[ -L "$APP/node_modules/$PKG_NAME" ]]; then
  fail "node_modules/$PKG_NAME is a symlink: the app must use the packed tarball, not the workspace"
fi
echo "installed $PKG_NAME@$(node -p "require('$APP/node_modules/$PKG_NAME/package.json').version") without the native driver"

# ---------------------------------------------------------------------------------------------
step "type-check main.ts against the published typings (tsc --noEmit)"
# ---------------------------------------------------------------------------------------------
(cd "$APP" && ./node_modules/.bin/tsc -p tsconfig.json --noEmit) ||
  fail "main.ts does not type-check against the PUBLISHED typings of $PKG_NAME (see $APP/src/main.ts, from scripts/check-package/template/src/main.ts, and the errors above; errors in node_modules/$PKG_NAME/dist/*.d.ts are bugs in the emitted declarations, e.g. a type from a package that is not a dependency)"
(cd "$APP" && ./node_modules/.bin/tsc -p tsconfig.json) || fail "tsc emit failed"

# ---------------------------------------------------------------------------------------------
if [[ "${SKIP_ZK_ENSURE:-}" != 1 ]]; then
  step "npm run zookeeper:ensure"
  npm run --silent zookeeper:ensure || fail "npm run zookeeper:ensure failed"
fi

# ---------------------------------------------------------------------------------------------
step "run the compiled app against a real ZooKeeper"
# ---------------------------------------------------------------------------------------------
mkdir -p "$WORK/tmp"
set +e
(cd "$APP" && env "$RUN_MARKER" TMPDIR="$WORK/tmp" timeout --kill-after=10 180 node dist/main.js) \
  2>&1 | tee "$WORK/run.log"
run_rc=${PIPESTATUS[0]}
set -e
if ((run_rc == 124 || run_rc == 137)); then
  fail "the consumer app did not finish within 180s (hung while starting ZooKeeper or talking to it)"
elif ((run_rc != 0)); then
  if grep -q "ERR_MODULE_NOT_FOUND\|Cannot find module\|Cannot find package" "$WORK/run.log"; then
    echo "hint: the packed library imports a module that a consumer does not have; check that" >&2
    echo "      it is in \"dependencies\" (or is a required peer), and that optional peers such as" >&2
    echo "      @nestjs/terminus are not imported from the main entry point." >&2
  fi
  fail "the consumer app exited with code $run_rc (output above)"
fi
grep -qx 'package check: ok' "$WORK/run.log" || fail "the consumer app exited 0 without printing 'package check: ok'"
step "done"
STEP_NAME=""
