// `npm run bench [-- --only drivers,api]`: the library against raw clients, in the same run against
// the same server, reported as ratios (speed is never asserted in tests). Sections: api (library
// vs the raw zookeeper package), drivers (raw clients and the library on each driver), flow (the
// demo's master/client flow as processes), messaging, transport; without --only, all of them.
import { loadavg } from 'node:os';
import {
  findZookeeperInstallation,
  ZookeeperTestingServer,
} from '../libs/zookeeper/src/testing/index.js';
import { benchApi } from './api.js';
import { benchDrivers } from './drivers.js';
import { benchFlow } from './flow.js';
import { benchMessaging } from './messaging.js';
import { BenchContext, connectRawNative } from './support/clients.js';
import { benchTransport } from './transport.js';

const SECTIONS: Record<string, (context: BenchContext) => Promise<void>> = {
  api: benchApi,
  drivers: benchDrivers,
  flow: benchFlow,
  messaging: benchMessaging,
  transport: benchTransport,
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

const sections = chosenSections(process.argv.slice(2));
// fsync on, as in production (the testing server turns it off for speed); BENCH_FSYNC=off to drop it.
const fsync = process.env.BENCH_FSYNC !== 'off';
const installation = process.env.ZK_CONNECT ? undefined : findZookeeperInstallation();
const server = installation
  ? await ZookeeperTestingServer.start({
      installation,
      tickTime: 2000,
      systemProperties: { 'zookeeper.forceSync': fsync ? 'yes' : 'no' },
    })
  : undefined;
const connectString = process.env.ZK_CONNECT ?? server!.connectString;
const started = performance.now();
console.log(
  `bench ${new Date().toISOString()}: sections ${sections.join(', ')}; server ${connectString} ` +
    `(${server ? `one ZooKeeper ${installation?.version ?? ''} started by the bench, fsync ${fsync ? 'on' : 'off'}` : 'ZK_CONNECT'}); ` +
    `load average ${load()} (1/5/15 min)`,
);

const root = `/bench-${Date.now()}`;
const admin = await connectRawNative(connectString);
await admin.create(root, '', 0);
for (const section of sections) {
  const sectionStarted = performance.now();
  const progress = (message: string) =>
    console.log(
      `  [${section} ${((performance.now() - sectionStarted) / 1000).toFixed(0)} s, ` +
        `load ${loadavg()[0].toFixed(2)}] ${message}`,
    );
  progress('start');
  await admin.create(`${root}/${section}`, '', 0);
  await SECTIONS[section]({ connectString, root: `${root}/${section}`, progress });
  progress('done');
}

console.log(
  `\nbench done in ${((performance.now() - started) / 1000).toFixed(0)} s; load average ${load()}`,
);
admin.close();
await server?.close();
