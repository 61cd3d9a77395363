import type { DemoContext } from './demo-context.js';
import { say, secs, tty } from './output.js';

function progressLine({ plan, record, tally }: DemoContext): string {
  const received = plan.consumers.map(
    (name) => `${name.slice(-1)} ${tally.receivedOf(name, record.sent.messages)}`,
  );
  return [
    `sent ${record.sent.messages.length}/${plan.messages}`,
    `jobs done ${tally.jobsDoneOf(record.sent.jobs)}/${plan.jobs}`,
    `received ${received.join(' ')}`,
    `master ${record.masters.at(-1) ?? '?'}`,
    secs(Date.now() - record.startedAt),
  ].join(' · ');
}

/**
 * Live progress: one rewritten line on a terminal, a line every 2 s otherwise. Also notes each
 * new master the producers report. Returns the function that stops both.
 */
export function showProgress(demo: DemoContext): () => void {
  const timer = setInterval(
    () =>
      tty
        ? process.stdout.write(`\r\x1b[K    ${progressLine(demo)}`)
        : say(`    ${progressLine(demo)}`),
    tty ? 250 : 2000,
  );
  const masters = demo.record.masters;
  const masterPoll = setInterval(() => {
    void demo.apps.producerStatus().then((status) => {
      if (status?.master && status.master !== masters.at(-1)) masters.push(status.master);
    });
  }, 500);
  return () => {
    clearInterval(timer);
    clearInterval(masterPoll);
  };
}
