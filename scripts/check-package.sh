#!/usr/bin/env bash
# Proves that libs/zookeeper is a real, publishable npm package:
#   1. builds it from a clean dist/ and packs it with `npm pack -w nestjs-zookeeper`;
#   2. checks the tarball's contents (built entry points + typings, README, no sources/specs,
#      every "exports" target present);
#   3. installs the tarball into a brand-new Nest 12 ESM app OUTSIDE the repo (under /tmp),
#      building the native `zookeeper` driver there as any consumer would;
#   4. type-checks a tiny main.ts against the installed typings and runs the compiled JS
#      against a real ZooKeeper started with `nestjs-zookeeper/testing`.
#
# Usage: bash scripts/check-package.sh
# Env:   KEEP_PACK_CHECK_DIR=1   keep the temp app for inspection
#        SKIP_ZK_ENSURE=1        don't run `npm run zookeeper:ensure` first (.ci/run already did)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB_DIR="$REPO_ROOT/libs/zookeeper"
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
  dist/testing/index.d.ts; do
  grep -qxF "$f" "$WORK/pack/files.txt" || problems+=("missing required file: $f")
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
V_RXJS="$(installed_version rxjs)"
V_REFLECT="$(installed_version reflect-metadata)"
V_TS="$(installed_version typescript)"
V_TYPES_NODE="$(installed_version @types/node)"

# npm 11: install scripts of dependencies run only when allowed, and `--allow-scripts` on the
# command line is rejected for project installs, so the policy goes into package.json.
cat >"$APP/package.json" <<EOF
{
  "name": "nestjs-zookeeper-pack-check",
  "version": "0.0.0",
  "private": true,
  "type": "module",
  "allowScripts": {
    "zookeeper": true
  },
  "dependencies": {
    "@nestjs/common": "$V_COMMON",
    "@nestjs/core": "$V_CORE",
    "$PKG_NAME": "file:./$(basename "$TARBALL_PATH")",
    "reflect-metadata": "$V_REFLECT",
    "rxjs": "$V_RXJS"
  },
  "devDependencies": {
    "@types/node": "$V_TYPES_NODE",
    "typescript": "$V_TS"
  }
}
EOF

# What a Nest 12 ESM application would use; skipLibCheck is OFF on purpose so that the
# library's published .d.ts files are type-checked too.
cat >"$APP/tsconfig.json" <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022",
    "lib": ["ES2023"],
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "experimentalDecorators": true,
    "emitDecoratorMetadata": true,
    "esModuleInterop": true,
    "skipLibCheck": false,
    "types": ["node"],
    "rootDir": "src",
    "outDir": "dist"
  },
  "include": ["src"]
}
EOF

cat >"$APP/src/main.ts" <<'EOF'
import 'reflect-metadata';
import { strict as assert } from 'node:assert';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ZookeeperModule, getZookeeperToken } from 'nestjs-zookeeper';
import { ZookeeperTestingServer } from 'nestjs-zookeeper/testing';

// The published typings are checked through these annotations: forRoot() must accept
// { connectString } and return a DynamicModule, getZookeeperToken must be (name?) => string,
// and the testing server must expose start()/connectString/close(). app.get() returns `any`,
// so the connection itself is only checked at run time, against this shape.
const tokenFactory: (name?: string) => string = getZookeeperToken;

interface ConnectionUnderTest {
  create(path: string, data?: Buffer | string): Promise<string>;
  get(path: string): Promise<{ data: Buffer }>;
}

async function main(): Promise<void> {
  const server: ZookeeperTestingServer = await ZookeeperTestingServer.start();
  const connectString: string = server.connectString;
  console.log(`ZooKeeper testing server at ${connectString}`);
  try {
    const zookeeper: DynamicModule = ZookeeperModule.forRoot({ connectString });

    @Module({ imports: [zookeeper] })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, {
      logger: ['error', 'warn'],
    });
    try {
      const token: string = tokenFactory();
      const connection: ConnectionUnderTest = app.get(token);
      const created = await connection.create('/pack-check', Buffer.from('ok'));
      assert.equal(created, '/pack-check', 'create() should resolve to the created path');
      const { data } = await connection.get('/pack-check');
      assert.ok(Buffer.isBuffer(data), 'get() should resolve to { data: Buffer }');
      assert.equal(data.toString('utf8'), 'ok', 'get() should return the data that was written');
    } finally {
      await app.close();
    }
  } finally {
    await server.close();
  }
  console.log('package check: ok');
  // Everything was closed: the process must now exit on its own. If it doesn't, something
  // (connection, timer, child process) leaked past app.close()/server.close().
  setTimeout(() => {
    console.error('package check: process still alive 15s after app.close() and server.close()');
    process.exit(3);
  }, 15_000).unref();
}

main().catch((err: unknown) => {
  console.error('package check: FAILED at runtime');
  console.error(err);
  process.exit(1);
});
EOF

# ---------------------------------------------------------------------------------------------
step "npm install in the consumer app (builds the native zookeeper driver)"
# ---------------------------------------------------------------------------------------------
(cd "$APP" && npm install --prefer-offline --no-audit --no-fund --loglevel=warn) ||
  fail "npm install of the packed tarball into a fresh app failed"
ADDON="$APP/node_modules/zookeeper/build/Release/zookeeper.node"
[[ -f "$ADDON" ]] ||
  fail "the native zookeeper driver was not built in the consumer app ($ADDON missing): its install script did not run. Is \"allowScripts\" still honoured by this npm ($(npm -v))?"
if [[ -L "$APP/node_modules/$PKG_NAME" ]]; then
  fail "node_modules/$PKG_NAME is a symlink: the app must use the packed tarball, not the workspace"
fi
echo "installed $PKG_NAME@$(node -p "require('$APP/node_modules/$PKG_NAME/package.json').version") with the native driver"

# ---------------------------------------------------------------------------------------------
step "type-check main.ts against the published typings (tsc --noEmit)"
# ---------------------------------------------------------------------------------------------
(cd "$APP" && ./node_modules/.bin/tsc -p tsconfig.json --noEmit) ||
  fail "main.ts does not type-check against the PUBLISHED typings of $PKG_NAME (see $APP/src/main.ts and the errors above; errors in node_modules/$PKG_NAME/dist/*.d.ts are bugs in the emitted declarations, e.g. a type from a package that is not a dependency)"
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
