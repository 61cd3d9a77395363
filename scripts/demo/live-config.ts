import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { importConfigLayer } from '../../libs/zookeeper/src/config/index.js';
import { ZookeeperConnection } from '../../libs/zookeeper/src/index.js';
import type { DemoContext } from './demo-context.js';
import { until } from './step-runner.js';

const RATE = 20;
const GENERATE_MS = 2000;
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

/** Lines of `name`'s current log file matching `pattern`. */
function logLines(demo: DemoContext, name: string, pattern: RegExp): string[] {
  const file = demo.apps.get(name)?.logFile;
  if (!file) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => pattern.test(line));
}

/**
 * The apps' live settings (nestjs-zookeeper/config): sets `generator.rate` in /config/demo for
 * two seconds, as `npm run config -- import` would; every app logs the change and the producers
 * generate messages, which every consumer receives; then the key is removed again.
 */
export async function changeLiveSetting(demo: DemoContext): Promise<void> {
  const { plan, steps } = demo;
  const everyone = [...plan.producers, ...plan.consumers];
  await steps.step(
    `a live setting changed in ZooKeeper reaches every app (generator.rate = ${RATE} for ${GENERATE_MS / 1000} s)`,
    async () => {
      const connection = await ZookeeperConnection.connect({
        connectString: process.env.ZK_CONNECT!,
        namespace: process.env.ZK_NAMESPACE ?? 'nestjs-zookeeper-demo',
        logger: quiet,
      });
      try {
        const changed = /\[LiveConfig\] generator\.rate \S+ -> 20/;
        const started = Date.now();
        await importConfigLayer(connection, '/config/demo', { generator: { rate: RATE } });
        await until(
          'every app logged the new generator.rate',
          async () => everyone.every((name) => logLines(demo, name, changed).length > 0),
          15_000,
        );
        const seenMs = Date.now() - started;
        await sleep(GENERATE_MS);
        await connection.delete('/config/demo/generator/rate');
        await until(
          'every app logged the removal',
          async () =>
            everyone.every(
              (name) =>
                logLines(demo, name, /\[LiveConfig\] generator\.rate \S+ -> undefined/).length > 0,
            ),
          15_000,
        );
        await sleep(1000);
        const generated = plan.consumers
          .map(
            (name) => `${name} ${logLines(demo, name, /\[Receiver\] offset \d+: \S+-gen-/).length}`,
          )
          .join(', ');
        return `${everyone.length} apps applied it within ${seenMs} ms; generated messages received: ${generated}`;
      } finally {
        await connection.close();
      }
    },
  );
}
