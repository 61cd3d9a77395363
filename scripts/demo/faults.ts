import type { DemoContext } from './demo-context.js';
import { say, secs } from './output.js';
import { until } from './step-runner.js';

/** SIGKILLs consumer `name` and starts it again: it must resume from its committed offset. */
export async function killAndRestartConsumer(demo: DemoContext, name: string): Promise<void> {
  const old = await demo.apps.kill(name);
  say(
    `    ⚡ SIGKILL ${name} (pid ${old.pid}) after ${demo.tally.received(name)} messages; restarting it`,
  );
  const app = demo.apps.start('consumer', name);
  await app.url;
  say(`    ↻ ${name} is back (pid ${app.pid}) and resumes from its committed offset`);
}

/**
 * SIGKILLs whichever producer is master, waits for its standby to take over (after the session
 * timeout) and starts the killed one again as the new standby.
 */
export async function killAndRestartMaster(demo: DemoContext): Promise<void> {
  const { apps, plan, record } = demo;
  let master: string | null | undefined;
  // Both /status calls can time out on a loaded machine: ask until one answers.
  await until(
    'a known master',
    async () => !!(master = (await apps.producerStatus())?.master),
    15_000,
  );
  if (!master || !apps.has(master)) throw new Error(`no running master to kill (${master})`);
  const old = await apps.kill(master);
  const killedAt = Date.now();
  say(
    `    ⚡ SIGKILL the master ${master} (pid ${old.pid}); its standby takes over after the session timeout`,
  );
  const standby = plan.producers.find((name) => name !== master)!;
  await until(
    `${standby} to take over`,
    async () => (await apps.producerStatus(standby))?.isMaster === true,
    6 * plan.sessionTimeoutMs,
  );
  record.takeoverMs = Date.now() - killedAt;
  // The progress poll may have noted the new master already.
  if (record.masters.at(-1) !== standby) record.masters.push(standby);
  say(
    `    ↻ ${standby} is master after ${secs(record.takeoverMs)}; restarting ${master} as a standby`,
  );
  await apps.start('producer', master).url;
}

/**
 * Resolves with the failure's message (or undefined): a fault runs beside the sending loop, which
 * collects it at the end, so it must never reject unhandled meanwhile.
 */
export function settled(fault: Promise<void>): Promise<string | undefined> {
  return fault.then(
    () => undefined,
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      say(`    ✘ ${message}`);
      return message;
    },
  );
}
