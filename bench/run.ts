// `npm run bench [-- --only drivers,api] [--no-write]`: the library against raw clients, in the
// same run against the same server, reported as ratios (speed is never asserted in tests).
// Sections: api (library vs the raw zookeeper package), drivers (raw clients and the library on
// each driver), flow (the demo's master/client flow as processes), messaging, transport; without
// --only, all of them. Each section prints its tables and records them as data; at the end the
// results are merged into docs/benchmarks.json (sections that did not run keep their last results)
// and docs/benchmarks.md and docs/benchmarks.svg are generated from it; `--no-write` or
// BENCH_WRITE=0 leaves docs/ alone.
// Progress: listr2 (maintained; on a terminal a live task per section with its current step, and
// plain lines when stdout is not a TTY, as in CI).
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType, arch } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Listr, PRESET_TIMER } from 'listr2';
import { format, resolveConfig } from 'prettier';
import {
  findZookeeperInstallation,
  ZookeeperTestingServer,
} from '../libs/zookeeper/src/testing/index.js';
import { benchApi } from './api.js';
import { benchConfig } from './config.js';
import { benchDrivers } from './drivers.js';
import { benchFlow } from './flow.js';
import { benchMessaging } from './messaging.js';
import { BenchContext, connectRawNative } from './support/clients.js';
import {
  BenchResults,
  mergeResults,
  renderMarkdown,
  renderSvg,
  RunInfo,
  SectionResult,
  sectionRecorder,
} from './support/report.js';
import { benchTransport } from './transport.js';

const SECTIONS: Record<string, (context: BenchContext) => Promise<void>> = {
  api: benchApi,
  drivers: benchDrivers,
  flow: benchFlow,
  messaging: benchMessaging,
  transport: benchTransport,
  config: benchConfig,
};

function chosenSections(args: readonly string[]): string[] {
  const at = args.findIndex((arg) => arg === '--only' || arg.startsWith('--only='));
  if (at < 0) return Object.keys(SECTIONS);
  const list = args[at].startsWith('--only=') ? args[at].slice('--only='.length) : args[at + 1];
  const names = (list ?? '').split(',').filter(Boolean);
  const unknown = names.filter((name) => !(name in SECTIONS));
  if (!names.length || unknown.length) {
    console.error(
      `bench: --only takes sections from ${Object.keys(SECTIONS).join(', ')}` +
        (unknown.length ? `; unknown: ${unknown.join(', ')}` : ''),
    );
    process.exit(2);
  }
  return names;
}

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
const loadNow = () => loadavg().map((value) => Number(value.toFixed(2)));

/** Single-quoted for a POSIX shell when it needs to be. */
const quote = (word: string) =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;

/** The command line as typed: the bench's variables that were set, then npm run or tsx. */
function commandLine(args: readonly string[]): string {
  const variables = Object.entries(process.env)
    .filter(
      ([name]) =>
        (name.startsWith('BENCH_') && name !== 'BENCH_WRITE') ||
        name === 'ZK_CONNECT' ||
        name === 'ZOOKEEPER_DRIVER',
    )
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${quote(value ?? '')}`);
  const words = args.map(quote).join(' ');
  const command =
    process.env.npm_lifecycle_event === 'bench'
      ? `npm run bench${words ? ` -- ${words}` : ''}`
      : `tsx bench/run.ts${words ? ` ${words}` : ''}`;
  return [...variables, command].join(' ');
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) return `${pretty[1]} (${osType()} ${release()}, ${arch()})`;
  } catch {
    // not Linux, or no os-release: the kernel's name will do
  }
  return `${osType()} ${release()} ${arch()}`;
}

const args = process.argv.slice(2);
const sections = chosenSections(args);
const write = !args.includes('--no-write') && process.env.BENCH_WRITE !== '0';
const command = commandLine(args);
// fsync on, as in production (the testing server turns it off for speed); BENCH_FSYNC=off to drop it.
const fsync = process.env.BENCH_FSYNC !== 'off';
const TICK_TIME = 2000;
const installation = process.env.ZK_CONNECT ? undefined : findZookeeperInstallation();
const startedAt = new Date().toISOString();
const loadBefore = loadNow();
// The JVM and transaction log as zkServer.sh runs them (the testing server trades steady-state
// speed for a fast start: C1 only, the serial collector, a 1 MB preallocated log): the full JIT,
// G1, its 1000 MB heap, 64 MB preallocation. Appended options win over the testing defaults.
// BENCH_JVM=testing runs the testing server's JVM instead (to compare the two).
const PRODUCTION_JVM = ['-XX:TieredStopAtLevel=4', '-XX:-UseSerialGC', '-XX:+UseG1GC', '-Xmx1000m'];
const server = installation
  ? await ZookeeperTestingServer.start({
      installation,
      tickTime: TICK_TIME,
      systemProperties: {
        'zookeeper.forceSync': fsync ? 'yes' : 'no',
        'zookeeper.preAllocSize': '65536',
      },
      jvmOptions: process.env.BENCH_JVM === 'testing' ? [] : PRODUCTION_JVM,
    })
  : undefined;
const connectString = process.env.ZK_CONNECT ?? server!.connectString;
const started = performance.now();
console.log(
  `bench ${startedAt}: sections ${sections.join(', ')}; server ${connectString} ` +
    `(${server ? `one ZooKeeper ${installation?.version ?? ''} started by the bench, fsync ${fsync ? 'on' : 'off'}` : 'ZK_CONNECT'}); ` +
    `load average ${load()} (1/5/15 min)`,
);

const root = `/bench-${Date.now()}`;
const admin = await connectRawNative(connectString);
await admin.create(root, '', 0);
const results: SectionResult[] = [];
for (const section of sections) {
  const result: SectionResult = {
    section,
    run: startedAt,
    ranAt: new Date().toISOString(),
    durationS: 0,
    loadBefore: loadavg()[0],
    loadAfter: 0,
    settings: [],
    workloads: [],
    targets: [],
    notes: [],
  };
  const sectionStarted = performance.now();
  const stamp = () =>
    `[${section} ${((performance.now() - sectionStarted) / 1000).toFixed(0)} s, ` +
    `load ${loadavg()[0].toFixed(2)}]`;
  // One task list per section, so that on a terminal (where listr2 holds back what the section
  // prints while it draws) each section's tables come out when it ends, not at the very end.
  await new Listr(
    [
      {
        title: section,
        task: async (_, task) => {
          const progress = (message: string) => {
            task.output = `${stamp()} ${message}`;
            task.title = `${section}: ${message}`;
          };
          progress('start');
          await admin.create(`${root}/${section}`, '', 0);
          await SECTIONS[section]({
            connectString,
            root: `${root}/${section}`,
            progress,
            record: sectionRecorder(result),
          });
          task.title = `${section} done, load ${loadavg()[0].toFixed(2)}`;
        },
      },
    ],
    {
      rendererOptions: { timer: PRESET_TIMER, collapseErrors: false },
      fallbackRenderer: 'simple',
      fallbackRendererOptions: { timer: PRESET_TIMER },
    },
  ).run();
  result.durationS = (performance.now() - sectionStarted) / 1000;
  result.loadAfter = loadavg()[0];
  results.push(result);
}

const durationS = (performance.now() - started) / 1000;
console.log(`\nbench done in ${durationS.toFixed(0)} s; load average ${load()}`);
admin.close();
await server?.close();

if (write) {
  const run: RunInfo = {
    startedAt,
    command,
    sections,
    machine: {
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      memoryGiB: totalmem() / 1024 ** 3,
      node: process.version,
      os: osName(),
    },
    zookeeper: server
      ? {
          server: 'started by the bench',
          version: installation?.version,
          fsync,
          tickTime: TICK_TIME,
          servers: 1,
          jvm: 'as zkServer.sh: G1, full JIT, -Xmx1000m, 64 MB log preallocation',
        }
      : { server: 'ZK_CONNECT' },
    loadBefore,
    loadAfter: loadNow(),
    durationS,
  };
  const docs = fileURLToPath(new URL('../docs/', import.meta.url));
  mkdirSync(docs, { recursive: true });
  const jsonPath = `${docs}benchmarks.json`;
  const stored = existsSync(jsonPath)
    ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as BenchResults)
    : undefined;
  const merged = mergeResults(stored, run, results, Object.keys(SECTIONS));
  // Through the repo's Prettier settings, so `npm run format:check` passes on what is generated.
  const prettier = (await resolveConfig(`${docs}benchmarks.md`)) ?? {};
  writeFileSync(jsonPath, await format(JSON.stringify(merged), { ...prettier, parser: 'json' }));
  writeFileSync(
    `${docs}benchmarks.md`,
    await format(renderMarkdown(merged), { ...prettier, parser: 'markdown' }),
  );
  writeFileSync(`${docs}benchmarks.svg`, `${await renderSvg(merged)}\n`);
  console.log(
    `bench: wrote docs/benchmarks.md, .json and .svg (sections ${sections.join(', ')}; ` +
      `${Object.keys(merged.sections).length - sections.length} kept from earlier runs)`,
  );
} else {
  console.log('bench: docs/benchmarks.* left alone (--no-write or BENCH_WRITE=0)');
}
