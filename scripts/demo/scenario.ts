import { setTimeout as sleep } from 'node:timers/promises';
import { ZookeeperTestingServer } from '../../libs/zookeeper/src/testing/index.js';
import type { DemoContext } from './demo-context.js';
import { describeConsumerStats } from './demo-apps.js';
import { killAndRestartConsumer, killAndRestartMaster, settled } from './faults.js';
import { say } from './output.js';
import { showProgress } from './progress.js';
import { until } from './step-runner.js';

/** Requests in flight at most: a slow producer holds the sender back instead of piling up. */
const MAX_IN_FLIGHT = 32;

/**
 * The demo's steps, in order: ZooKeeper, the apps, the election and registrations, the traffic with
 * its two crashes, the last deliveries. Rejects with the first failed step (already reported).
 */
export async function runDemo(demo: DemoContext): Promise<void> {
  const { apps, plan, record, steps } = demo;
  await steps.step('ZooKeeper is up', async () => {
    if (process.env.ZK_CONNECT) {
      return `using ZK_CONNECT=${process.env.ZK_CONNECT}, namespace ${process.env.ZK_NAMESPACE}`;
    }
    demo.server = await ZookeeperTestingServer.start();
    process.env.ZK_CONNECT = demo.server.connectString;
    return `started a throwaway server on ${demo.server.connectString}`;
  });
  const everyone = `${plan.producers.join(', ')} and ${plan.consumers.join(', ')}`;
  await steps.step(`${everyone} are listening`, async () => {
    plan.producers.forEach((name) => apps.start('producer', name));
    plan.consumers.forEach((name) => apps.start('consumer', name));
    const timeout = sleep(45_000).then(() =>
      Promise.reject(new Error('not all listening in 45 s')),
    );
    await Promise.race([apps.allListening(), timeout]);
  });
  await steps.step('a master is elected and every consumer is registered', async () => {
    let status: Awaited<ReturnType<typeof apps.producerStatus>>;
    const clients = plan.consumers.length;
    await until(
      `a master and ${clients} registered clients`,
      async () =>
        !!(status = await apps.producerStatus())?.master && status.clients.length >= clients,
      30_000,
    );
    record.masters.push(status!.master!);
    return `master ${status!.master}, ${status!.clients.length} clients under /clients`;
  });
  await steps.step('a producer asks the consumers for their counts (request/response)', async () =>
    describeConsumerStats(await apps.producerStatus()),
  );
  const stopProgress = showProgress(demo);
  try {
    await steps.step(
      `send ${plan.messages} messages and ${plan.jobs} jobs at ${plan.rate}/s, with crashes`,
      () => send(demo),
    );
    await steps.step('every consumer received every message, each job was done', async () => {
      const { tally } = demo;
      const { messages, jobs } = record.sent;
      const complete = () =>
        plan.consumers.every((name) => tally.receivedOf(name, messages) === messages.length) &&
        tally.jobsDoneOf(jobs) === jobs.length;
      await until('the last deliveries', complete, 60_000).catch(() => undefined);
      if (!complete()) throw new Error('some messages or jobs were not delivered in 60 s');
      return describeConsumerStats(await apps.producerStatus());
    });
  } finally {
    stopProgress();
  }
}

/**
 * Posts the messages at the planned rate, with the jobs spread among them; a third of the way in
 * it kills and restarts consumer-b, two thirds in the master. Resolves once every request was
 * accepted and both faults went as planned.
 */
async function send(demo: DemoContext): Promise<string> {
  const { plan, record, sender, abort } = demo;
  const sent = record.sent;
  const startedSending = Date.now();
  const inFlight = new Set<Promise<void>>();
  const faults: Array<Promise<string | undefined>> = [];
  const interval = 1000 / plan.rate;
  const jobEvery = plan.jobs > 0 ? plan.messages / plan.jobs : Infinity;
  let jobsQueued = 0;
  const post = (path: '/messages' | '/jobs', id: string, list: string[]) => {
    const request = sender
      .post(path, { id, text: `demo ${path.slice(1, -1)} ${id}` })
      .then(() => void list.push(id))
      .catch((error: unknown) => {
        sent.refused++;
        say(`    ✘ ${String(error)}`);
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  for (let i = 0; i < plan.messages; i++) {
    await sleep(Math.max(0, startedSending + (i + 1) * interval - Date.now()));
    if (abort.aborted) break;
    if (i === Math.floor(plan.messages / 3))
      faults.push(settled(killAndRestartConsumer(demo, 'consumer-b')));
    if (i === Math.floor((2 * plan.messages) / 3)) faults.push(settled(killAndRestartMaster(demo)));
    post('/messages', `msg-${String(i + 1).padStart(5, '0')}`, sent.messages);
    while (jobsQueued < plan.jobs && jobsQueued * jobEvery <= i) {
      post('/jobs', `job-${String(++jobsQueued).padStart(5, '0')}`, sent.jobs);
    }
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const failures = (await Promise.all(faults)).filter((failure) => failure !== undefined);
  if (failures.length > 0) throw new Error(failures.join('; '));
  if (sent.refused > 0) throw new Error(`${sent.refused} requests were never accepted`);
  return `${sent.messages.length} messages and ${sent.jobs.length} jobs accepted`;
}
