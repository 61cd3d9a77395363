import { importConfigLayer } from '../../libs/zookeeper/src/config/index.js';
import { ZookeeperConnection } from '../../libs/zookeeper/src/index.js';
import type { DemoContext } from './demo-context.js';
import { until } from './step-runner.js';

/** The consumers' default (JOBS_CONCURRENCY in apps/consumer) and the live value set. */
const FROM = 2;
const TO = 3;
/** Jobs posted before the change (still running when it comes) and after it. */
const BURST = 36;
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

/**
 * The apps' live settings (nestjs-zookeeper/config): posts a burst of jobs and, while they are
 * still being done, sets `jobs.concurrency` to 3 in /config/demo (as `npm run config -- import`
 * would); every consumer resizes its jobs consumer (ServerZookeeper.setConcurrency) and logs
 * `[Jobs] concurrency 2 -> 3`; a second burst then runs up to 3 jobs at once per consumer. The
 * tally reports each consumer's peak of concurrent jobs before and after its change.
 */
export async function changeLiveSetting(demo: DemoContext): Promise<void> {
  const { plan, steps, tally, record, sender } = demo;
  await steps.step(
    `a live setting changed in ZooKeeper while jobs flow reaches every consumer (jobs.concurrency ${FROM} -> ${TO})`,
    async () => {
      const connection = await ZookeeperConnection.connect({
        connectString: process.env.ZK_CONNECT!,
        namespace: process.env.ZK_NAMESPACE ?? 'nestjs-zookeeper-demo',
        logger: quiet,
      });
      let next = 0;
      const burst = async () => {
        const ids = Array.from(
          { length: BURST },
          () => `live-job-${String(++next).padStart(5, '0')}`,
        );
        // One after the other: each job its own queue item (posted at once, they would be
        // batched into a few items, whose jobs run in turn).
        for (const id of ids) {
          await sender.post('/jobs', { id, text: `demo job ${id}` });
          record.sent.jobs.push(id);
        }
        return ids;
      };
      try {
        const first = await burst();
        await until(
          'a third of the first burst done',
          async () => tally.jobsDoneOf(first) >= BURST / 3,
          15_000,
        );
        const inFlight = BURST - tally.jobsDoneOf(first);
        const started = Date.now();
        await importConfigLayer(connection, '/config/demo', { jobs: { concurrency: TO } });
        const changed = (name: string) =>
          tally.jobConcurrency.get(name)?.changes.includes(`${FROM} -> ${TO}`) === true;
        await until(
          `every consumer logged jobs.concurrency ${FROM} -> ${TO}`,
          async () => plan.consumers.every(changed),
          15_000,
        );
        const seenMs = Date.now() - started;
        const second = await burst();
        const all = [...first, ...second];
        await until('both bursts done', async () => tally.jobsDoneOf(all) === all.length, 30_000);
        const peaks = plan.consumers.map((name) => {
          const { peakBefore, peakAfter } = tally.jobConcurrency.get(name)!;
          return { name, peakBefore, peakAfter };
        });
        const over = peaks.filter((p) => p.peakBefore > FROM || p.peakAfter > TO);
        if (over.length > 0)
          throw new Error(`more jobs at once than allowed: ${JSON.stringify(over)}`);
        return (
          `${plan.consumers.length} consumers resized within ${seenMs} ms, ${inFlight} jobs of the first burst still to do; ` +
          `peak concurrent jobs before/after: ${peaks.map((p) => `${p.name} ${p.peakBefore}/${p.peakAfter}`).join(', ')}`
        );
      } finally {
        await connection.close();
      }
    },
  );
}
