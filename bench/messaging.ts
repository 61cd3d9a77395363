// End-to-end messaging throughput: publish N messages, then consume every one, against the same
// server. The raw baselines are what the driver offers without this library: one sequential znode
// per message (like Curator's DistributedQueue and kazoo's Queue), read and deleted one by one.
import ZooKeeper from 'zookeeper';
import { firstValueFrom, take, toArray } from 'rxjs';
import { BroadcastLog, WorkQueue, ZookeeperConnection } from '../libs/zookeeper/src/index.js';

export const IN_FLIGHT = 64;

export interface MessagingResult {
  name: string;
  rawRate: number;
  oursRate: number;
}

async function pool(count: number, run: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(IN_FLIGHT, count) }, async () => {
      while (next < count) await run(next++);
    }),
  );
}

async function rate(count: number, run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return (count / (performance.now() - started)) * 1000;
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

export async function benchMessaging(
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
