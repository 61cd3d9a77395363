// Section `config`: nestjs-zookeeper/config loading a layer of 5,000 keys (one znode each, three
// levels deep) against a plain walk of the same tree (getChildren + get of every znode, pipelined
// on the same connection). Median of alternating rounds; printed and recorded, never asserted.
import { ZookeeperConnection } from '../libs/zookeeper/src/index.js';
import { importConfigLayer, zookeeperConfig } from '../libs/zookeeper/src/config/index.js';
import { BenchContext, connectOurs, quietLogger } from './support/clients.js';
import { median } from './support/timing.js';

const KEYS = Number(process.env.BENCH_CONFIG_KEYS ?? 5000);
const ROUNDS = Number(process.env.BENCH_CONFIG_ROUNDS ?? 3);
const WALK_IN_FLIGHT = 256;

/** { group0: { sub0: { key0: 'value-0', ... } } }: 10 keys per sub, 10 subs per group. */
function tree(keys: number): Record<string, Record<string, Record<string, string>>> {
  const values: Record<string, Record<string, Record<string, string>>> = {};
  for (let i = 0; i < keys; i++) {
    const group = (values[`group${Math.floor(i / 100)}`] ??= {});
    const sub = (group[`sub${Math.floor(i / 10) % 10}`] ??= {});
    sub[`key${i % 10}`] = `value-${i}`;
  }
  return values;
}

/** Every znode below `path` read with getChildren + get, breadth first, pipelined. */
async function walk(connection: ZookeeperConnection, path: string): Promise<number> {
  let level = [path];
  let leaves = 0;
  while (level.length > 0) {
    const next: string[] = [];
    let index = 0;
    await Promise.all(
      Array.from({ length: Math.min(WALK_IN_FLIGHT, level.length) }, async () => {
        while (index < level.length) {
          const node = level[index++];
          const [children] = await Promise.all([
            connection.getChildren(node),
            connection.get(node),
          ]);
          if (children.length === 0) leaves++;
          for (const child of children) next.push(`${node}/${child}`);
        }
      }),
    );
    level = next;
  }
  return leaves;
}

async function timedMs(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

export async function benchConfig({ connectString, root, progress, record }: BenchContext) {
  const connection = await connectOurs(connectString, 'wire');
  if ('unavailable' in connection) throw new Error(`bench config: ${connection.unavailable}`);
  const layer = `${root}/tree/bench`;
  progress(`writing ${KEYS} keys`);
  await importConfigLayer(connection, layer, tree(KEYS));
  const rounds = { live: [] as number[], once: [] as number[], walk: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    progress(`round ${round + 1} of ${ROUNDS}`);
    rounds.walk.push(
      await timedMs(async () => {
        const leaves = await walk(connection, layer);
        if (leaves !== KEYS) throw new Error(`bench config: the walk found ${leaves} keys`);
      }),
    );
    for (const live of [true, false]) {
      const factory = zookeeperConfig({
        connection,
        root: `${root}/tree`,
        application: 'bench',
        sharedContext: false,
        live,
        logger: quietLogger,
      });
      (live ? rounds.live : rounds.once).push(
        await timedMs(async () => {
          await factory();
          const size = factory.config.origins().size;
          if (size !== KEYS) throw new Error(`bench config: loaded ${size} keys`);
        }),
      );
      await factory.config.close();
    }
  }
  await connection.close();
  const [live, once, raw] = [median(rounds.live), median(rounds.once), median(rounds.walk)];
  const perSecond = (ms: number) => (KEYS / ms) * 1000;
  record.setting(
    `${KEYS} keys, one znode each, 3 levels (${KEYS / 100} × 10 × 10); wire driver; ` +
      `median of ${ROUNDS} alternating rounds; walk: getChildren + get per znode, ${WALK_IN_FLIGHT} in flight`,
  );
  for (const [name, ms] of [
    ['load, live (persistent recursive watch, TreeCache)', live],
    ['load, live: false', once],
  ] as const) {
    record.workload({
      name: `${KEYS} keys: ${name}`,
      unit: 'keys/s',
      ours: { name: `zookeeperConfig, ${ms.toFixed(0)} ms`, rate: perSecond(ms) },
      baseline: { name: `getChildren + get walk, ${raw.toFixed(0)} ms`, rate: perSecond(raw) },
      ratio: raw / ms,
    });
  }
  console.log(
    `config: ${KEYS} keys loaded in ${live.toFixed(0)} ms (live), ${once.toFixed(0)} ms (live: false); ` +
      `a getChildren + get walk of the same tree: ${raw.toFixed(0)} ms ` +
      `(ours/walk speed ${(raw / live).toFixed(2)}×, ${(raw / once).toFixed(2)}×)`,
  );
}
