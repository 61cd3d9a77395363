// Imports a JSON or YAML file into a configuration layer (one znode per key, or one document),
// or exports a layer to a file, as nestjs-zookeeper/config reads it:
//
//   npm run config -- import <file.json|yaml> <layer> [--as keys|json|yaml] [--prune]
//   npm run config -- export <layer> [<file.json|yaml>]
//
// <layer> is a name under --root (`billing,prod` → /config/billing,prod) or a full path.
// --connect (default $ZK_CONNECT or 127.0.0.1:2181), --namespace, --root (default /config).
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { ZookeeperConnection } from '../libs/zookeeper/src/index.js';
import { exportConfigLayer, importConfigLayer } from '../libs/zookeeper/src/config/index.js';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    connect: { type: 'string', default: process.env.ZK_CONNECT ?? '127.0.0.1:2181' },
    namespace: { type: 'string' },
    root: { type: 'string', default: '/config' },
    as: { type: 'string', default: 'keys' },
    prune: { type: 'boolean', default: false },
  },
});
const [command, ...rest] = positionals;
const usage =
  'usage: npm run config -- import <file> <layer> [--as keys|json|yaml] [--prune] | export <layer> [<file>]';

function layerPath(layer: string | undefined): string {
  if (!layer) throw new Error(usage);
  return layer.startsWith('/') ? layer : `${flags.root!.replace(/\/$/, '')}/${layer}`;
}

const isYaml = (file: string) => ['.yaml', '.yml'].includes(extname(file).toLowerCase());
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

async function main(): Promise<void> {
  if (command !== 'import' && command !== 'export') throw new Error(usage);
  const connection = await ZookeeperConnection.connect({
    connectString: flags.connect!,
    namespace: flags.namespace,
    connectTimeoutMs: 10_000,
    logger: quiet,
  });
  try {
    if (command === 'import') {
      const [file, layer] = rest;
      if (!file) throw new Error(usage);
      const text = await readFile(file, 'utf8');
      const values = (isYaml(file) ? yaml.load(text) : JSON.parse(text)) as Record<string, unknown>;
      const as = flags.as as 'keys' | 'json' | 'yaml';
      if (!['keys', 'json', 'yaml'].includes(as)) throw new Error(usage);
      const path = layerPath(layer);
      const result = await importConfigLayer(connection, path, values, { as, prune: flags.prune });
      console.log(
        `${path}: ${result.written} written, ${result.unchanged} unchanged, ${result.deleted} deleted`,
      );
    } else {
      const [layer, file] = rest;
      const values = await exportConfigLayer(connection, layerPath(layer));
      const text =
        file && isYaml(file) ? yaml.dump(values) : `${JSON.stringify(values, null, 2)}\n`;
      if (file) await writeFile(file, text);
      else process.stdout.write(text);
    }
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
