import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { ZookeeperError } from 'nestjs-zookeeper';
import {
  ConfigDocumentError,
  exportConfigLayer,
  importConfigLayer,
  zookeeperConfig,
} from 'nestjs-zookeeper/config';
import { silentLogger, testConnectString, useTestConnections } from '../support/connect.js';

const connections = useTestConnections('config-transfer');
const run = promisify(execFile);
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'zk-config-cli-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

it('imports a nested object as one znode per key, exports it back, and prunes what the file no longer has', async () => {
  const { zk } = connections;
  const values = { db: { pool: { size: 20 }, host: 'db1' }, feature: true, tags: ['a', 'b'] };
  expect(await importConfigLayer(zk, '/config/cli,prod', values)).toEqual({
    written: 4,
    unchanged: 0,
    deleted: 0,
  });
  expect((await zk.get('/config/cli,prod/db/pool/size')).data.toString()).toBe('20');
  expect((await zk.get('/config/cli,prod/tags')).data.toString()).toBe('["a","b"]');
  expect(await exportConfigLayer(zk, '/config/cli,prod')).toEqual({
    db: { pool: { size: '20' }, host: 'db1' },
    feature: 'true',
    tags: '["a","b"]',
  });
  const again = await importConfigLayer(
    zk,
    '/config/cli,prod',
    { db: { host: 'db2' } },
    { prune: true },
  );
  expect(again).toEqual({ written: 1, unchanged: 0, deleted: 4 });
  expect(await zk.getChildren('/config/cli,prod')).toEqual(['db']);
  expect(await exportConfigLayer(zk, '/config/cli,prod')).toEqual({ db: { host: 'db2' } });
});

it('imports a layer as a YAML document, which the configuration reads with its types', async () => {
  const { zk } = connections;
  await importConfigLayer(
    zk,
    '/config/yamldoc',
    { rate: 5, nested: { enabled: true } },
    { as: 'yaml' },
  );
  expect((await zk.get('/config/yamldoc')).data.toString()).toBe(
    'rate: 5\nnested:\n  enabled: true\n',
  );
  const factory = zookeeperConfig({
    connection: zk,
    application: 'yamldoc',
    sharedContext: false,
    live: false,
    logger: silentLogger,
  });
  expect(await factory()).toEqual({ rate: 5, nested: { enabled: true } });
  await factory.config.close();
});

it('exports a layer whose document cannot be read as ConfigDocumentError naming the layer', async () => {
  const { zk } = connections;
  const cases: Array<[string, RegExp]> = [
    ['{ "rate": ', /layer broken: its JSON document does not parse \(SyntaxError: /],
    ['rate: [5', /layer broken: its YAML document does not parse \(YAMLException: /],
    ['- 5\n- 6\n', /layer broken: its document must be an object of keys, not a list/],
    ['just text', /layer broken: its document must be an object of keys, not a string/],
  ];
  await zk.create('/config/broken', '');
  for (const [document, message] of cases) {
    await zk.set('/config/broken', document);
    const error = await exportConfigLayer(zk, '/config/broken').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigDocumentError);
    expect(error).toBeInstanceOf(ZookeeperError);
    expect(error).toMatchObject({ layer: 'broken', layerPath: '/config/broken' });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(
      'fix the document in the data of /config/broken (a JSON or YAML object of keys)',
    );
  }
});

it('npm run config -- import|export: a YAML file to znodes and back to JSON', async () => {
  const input = join(directory, 'billing.yaml');
  const output = join(directory, 'billing.json');
  await writeFile(input, 'generator:\n  rate: 40\njobs:\n  concurrency: 2\n');
  const common = ['--connect', testConnectString(), '--namespace', connections.namespace];
  const imported = await run(process.execPath, [
    '--import',
    'tsx',
    'scripts/config.ts',
    'import',
    input,
    'billing',
    ...common,
  ]);
  expect(imported.stdout).toBe('/config/billing: 2 written, 0 unchanged, 0 deleted\n');
  await run(process.execPath, [
    '--import',
    'tsx',
    'scripts/config.ts',
    'export',
    '/config/billing',
    output,
    ...common,
  ]);
  expect(JSON.parse(await readFile(output, 'utf8'))).toEqual({
    generator: { rate: '40' },
    jobs: { concurrency: '2' },
  });
});
