// The master/client flow end to end: an embedded ZooKeeper, 2 producers (one elected master) and
// 3 consumers as processes; sends messages and jobs over HTTP, SIGKILLs a consumer and the master
// midway, and exits 0 only if every consumer received every message and every job was done.
// `npm run demo [-- --messages 300 --jobs 100 --rate 40 --keep-running]`, ZK_CONNECT to use yours.
// The steps are in demo/scenario.ts, the crashes in demo/faults.ts, the report in demo/summary.ts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeliveryTally } from './demo/delivery-tally.js';
import { DemoApps } from './demo/demo-apps.js';
import { changeLiveSetting } from './demo/live-config.js';
import { type DemoContext, type DemoPlan, newRecord } from './demo/demo-context.js';
import { say } from './demo/output.js';
import { runDemo } from './demo/scenario.js';
import { Sender } from './demo/sender.js';
import { StepRunner } from './demo/step-runner.js';
import { summarize } from './demo/summary.js';

const { values: flags } = parseArgs({
  options: {
    messages: { type: 'string', default: '300' },
    jobs: { type: 'string', default: '100' },
    rate: { type: 'string', default: '40' },
    'keep-running': { type: 'boolean', default: false },
  },
});
const count = (flag: 'messages' | 'jobs' | 'rate', min: number) => {
  const value = Number(flags[flag]);
  if (Number.isInteger(value) && value >= min) return value;
  console.error(`--${flag} must be an integer of at least ${min}, got '${flags[flag]}'`);
  process.exit(2);
};
const plan: DemoPlan = {
  messages: count('messages', 3),
  jobs: count('jobs', 0),
  rate: count('rate', 1),
  // Short, so that the master takeover takes seconds; the testing server allows down to 400 ms.
  sessionTimeoutMs: 4000,
  producers: ['producer-1', 'producer-2'],
  consumers: ['consumer-a', 'consumer-b', 'consumer-c'],
};

Object.assign(process.env, { ZK_SESSION_TIMEOUT_MS: plan.sessionTimeoutMs, PORT: 0, NO_COLOR: 1 });
// A fresh namespace on someone's ensemble: offsets of an earlier run must not count in this one.
if (process.env.ZK_CONNECT && !process.env.ZK_NAMESPACE) {
  process.env.ZK_NAMESPACE = `nestjs-zookeeper-demo-${Date.now()}`;
}
const logDir = mkdtempSync(join(tmpdir(), 'nestjs-zookeeper-demo-'));
// The first Ctrl-C either ends the --keep-running wait or aborts the current step.
const abort = new AbortController();
const aborted = new Promise<never>((_, reject) =>
  abort.signal.addEventListener('abort', () => reject(abort.signal.reason as Error)),
);
aborted.catch(() => undefined);
let endWait: (() => void) | undefined;

const tally = new DeliveryTally();
const apps = new DemoApps({ logDir, producers: plan.producers, tally, abort: abort.signal });
const demo: DemoContext = {
  plan,
  record: newRecord(),
  apps,
  tally,
  sender: new Sender(() => apps.producerUrls()),
  steps: new StepRunner(aborted),
  abort: abort.signal,
  logDir,
};

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (endWait) return endWait();
    // A second signal means the cleanup itself is stuck: leave now; the exit hook below kills.
    if (abort.signal.aborted) process.exit(130);
    abort.abort(new Error(`interrupted by ${signal}`));
  });
}
// Last resort for a crash in this script; the ZooKeeper JVM has its own watchdog.
process.on('exit', () => apps.killAll());

say('nestjs-zookeeper demo: consumers join the group /clients (ephemeral member znodes); the');
say("elected producer (master) emits every message to the consumers' broadcast pattern (the log");
say(
  '/nest-microservices/broadcast/messages); every consumer reads it all; jobs go to one consumer',
);
say("each. Lines with │ are the apps' own logs.\n");
await runDemo(demo)
  .then(() => changeLiveSetting(demo))
  .catch(() => undefined); // a failure was already reported by its step
const { good, text } = summarize({ ...demo, results: demo.steps.results });
say(text);
apps.quiet = true;
if (flags['keep-running'] && !abort.signal.aborted) {
  const list = [...apps.listening()]
    .map(([name, url]) => `    ${name.padEnd(12)} ${url}/status`)
    .join('\n');
  const producerUrl = apps.listening().get(plan.producers[0]) ?? '';
  say(
    `\n  Still running (Ctrl-C to stop):\n${list}\n  Dashboard: ${producerUrl}/dashboard\n  e.g. curl -X POST -H 'content-type: application/json' -d '{"text":"hi"}' ${producerUrl}/messages\n`,
  );
  await new Promise<void>((resolve) => (endWait = resolve));
}
await apps.stopAll();
await demo.server?.close();
process.exit(good ? 0 : abort.signal.aborted ? 130 : 1);
