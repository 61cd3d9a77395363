// End-to-end messaging throughput: publish N messages, then consume every one, against the same
// server. The raw baselines are what the driver offers without this library: one sequential znode
// per message (like Curator's DistributedQueue and kazoo's Queue), read and deleted one by one.
import ZooKeeper from 'zookeeper';
import { firstValueFrom, take, toArray } from 'rxjs';
import { BroadcastLog, WorkQueue, ZookeeperConnection } from '../libs/zookeeper/src/index.js';
import { BenchContext, connectOurs, connectRawNative } from './support/clients.js';
import { IN_FLIGHT, pool, rate } from './support/timing.js';

export interface MessagingResult {
  name: string;
  rawRate: number;
  oursRate: number;
}

const message = (i: number) => ({ n: i, body: 'x'.repeat(100) });

/** Raw: a znode per message; the consumer lists, reads and deletes each (at-most-once order). */
async function rawQueue(raw: ZooKeeper, path: string, count: number): Promise<void> {
  await raw.create(path, '', 0);
  await pool(count, (i) =>
    raw.create(`${path}/item-`, JSON.stringify(message(i)), ZooKeeper.constants.ZOO_SEQUENCE),
  );
  let consumed = 0;
  while (consumed < count) {
    const children = ((await raw.get_children(path, false)) as string[]).sort();
    await pool(children.length, async (k) => {
      const reply = (await raw.get(`${path}/${children[k]}`, false)) as unknown[];
      JSON.parse(String(reply[1]));
      await raw.delete_(`${path}/${children[k]}`, -1);
      consumed++;
    });
  }
}

/** Raw: a znode per message; the reader lists once and reads each (nothing deleted). */
async function rawLog(raw: ZooKeeper, path: string, count: number): Promise<void> {
  await raw.create(path, '', 0);
  await pool(count, (i) =>
    raw.create(`${path}/entry-`, JSON.stringify(message(i)), ZooKeeper.constants.ZOO_SEQUENCE),
  );
  const children = ((await raw.get_children(path, false)) as string[]).sort();
  await pool(children.length, async (k) => {
    const reply = (await raw.get(`${path}/${children[k]}`, false)) as unknown[];
    JSON.parse(String(reply[1]));
  });
}

async function oursQueue(ours: ZookeeperConnection, path: string, count: number): Promise<void> {
  const queue = new WorkQueue<ReturnType<typeof message>>(ours, path);
  await pool(count, (i) => queue.publish(message(i)));
  let consumed = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  await queue.consume({ concurrency: 4 }, () => {
    if (++consumed === count) finished();
  });
  await done;
  await queue.close();
}

async function oursLog(ours: ZookeeperConnection, path: string, count: number): Promise<void> {
  const log = new BroadcastLog<ReturnType<typeof message>>(ours, path, {
    retention: { auto: false },
  });
  await pool(count, (i) => log.publish(message(i)));
  await firstValueFrom(
    log.deliveries('bench', { from: 'earliest', autoAck: true }).pipe(take(count), toArray()),
  );
  await log.close();
}

async function measure(
  raw: ZooKeeper,
  ours: ZookeeperConnection,
  root: string,
  count: number,
): Promise<MessagingResult[]> {
  return [
    {
      name: 'work queue',
      rawRate: await rate(count, () => rawQueue(raw, `${root}/raw-queue`, count)),
      oursRate: await rate(count, () => oursQueue(ours, `${root}/ours-queue`, count)),
    },
    {
      name: 'broadcast log',
      rawRate: await rate(count, () => rawLog(raw, `${root}/raw-log`, count)),
      oursRate: await rate(count, () => oursLog(ours, `${root}/ours-log`, count)),
    },
  ];
}

/** Section `messaging`: publish BENCH_OPS messages, consume them all, raw first. */
export async function benchMessaging({
  connectString,
  root,
  progress,
}: BenchContext): Promise<void> {
  const count = Number(process.env.BENCH_OPS ?? 4000);
  const raw = await connectRawNative(connectString);
  const ours = await connectOurs(connectString);
  if ('unavailable' in ours) throw new Error(`bench messaging: ${ours.unavailable}`);
  progress(`work queue and broadcast log, ${count} messages each`);
  console.log(
    `\nmessaging, end to end: publish ${count} messages (${IN_FLIGHT} in flight), consume all`,
  );
  console.log('primitive              raw msg/s   ours msg/s   ours/raw');
  for (const result of await measure(raw, ours, root, count)) {
    console.log(
      `${result.name.padEnd(22)} ${result.rawRate.toFixed(0).padStart(9)} ${result.oursRate.toFixed(0).padStart(12)} ${(result.oursRate / result.rawRate).toFixed(2).padStart(10)}`,
    );
  }
  raw.close();
  await ours.close();
}
