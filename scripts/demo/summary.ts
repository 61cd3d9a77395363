import type { DeliveryTally } from './delivery-tally.js';
import type { DemoPlan, DemoRecord } from './demo-context.js';
import { secs } from './output.js';
import type { StepResult } from './step-runner.js';

export interface SummaryInput {
  plan: Pick<DemoPlan, 'consumers'>;
  record: DemoRecord;
  tally: DeliveryTally;
  results: readonly StepResult[];
  logDir: string;
}

/**
 * The closing report: each step, the deliveries per consumer and of the jobs, the masters. `good`
 * (the demo's exit status) only when every step passed and nothing was lost or out of order;
 * duplicates are allowed (the native driver's relay is at-least-once). `duplicates` counts messages
 * the log holds twice (a master crash on the native driver; 0 with the wire driver's fenced relay),
 * `re-sent` a POST the sender sent again after its answer was lost (its producer was killed after
 * accepting it: two acceptances), `redelivered` a consumer's own at-least-once after its crash.
 */
export function summarize({ plan, record, tally, results, logDir }: SummaryInput): {
  good: boolean;
  text: string;
} {
  const { messages, jobs: jobIds } = record.sent;
  const rows = plan.consumers.map((name) => tally.summary(name, messages));
  const jobs = tally.jobsSummary(jobIds);
  const lost = rows.reduce((sum, row) => sum + row.lost, 0) + jobs.lost;
  const disordered = rows.reduce((sum, row) => sum + row.outOfOrder, 0);
  const cell = (value: string | number, width = 10) => String(value).padStart(width);
  const widths = [10, 10, 10, 12, 11, 15, 14];
  const row = (name: string, values: ReadonlyArray<string | number>) =>
    `  ${name.padEnd(12)}${values.map((value, index) => cell(value, widths[index])).join('')}`.trimEnd();
  const table = [
    row('', ['sent', 'delivered', 'lost', 'duplicates', 're-sent', 'redelivered', 'out of order']),
    row('', ['', '', '', '(log 2×)', '(POST 2×)', '(same offset)', '']),
    ...rows.map((r) =>
      row(r.name, [
        messages.length,
        r.delivered,
        r.lost,
        r.duplicates,
        r.resent,
        r.redelivered,
        r.outOfOrder,
      ]),
    ),
    row('jobs', [jobIds.length, jobs.done, jobs.lost, jobs.duplicates, '-', '-', '-']),
  ];
  const steps = results.map(
    ({ ok, ms, title }, index) =>
      `  ${String(index + 1).padStart(2)}  ${ok ? 'ok  ' : 'FAIL'}  ${secs(ms).padStart(6)}  ${title}`,
  );
  const good = results.every((result) => result.ok) && lost === 0 && disordered === 0;
  const resized = plan.consumers
    .map((name) => ({ name, ...tally.jobConcurrency.get(name) }))
    .filter((entry) => entry.changes && entry.changes.length > 0)
    .map((e) => `${e.name} ${e.changes!.join(', ')}: ${e.peakBefore} → ${e.peakAfter}`);
  const concurrency =
    resized.length > 0 ? `\n  jobs at once  ${resized.join('; ')} (peak before → after)` : '';
  const takeover = record.takeoverMs ? ` (takeover ${secs(record.takeoverMs)})` : '';
  const text = `\n  Steps\n${steps.join('\n')}\n\n  Deliveries\n${table.join('\n')}
  masters       ${record.masters.join(' → ') || '?'}${takeover}${concurrency}
  total time    ${secs(Date.now() - record.startedAt)}
  app logs      ${logDir}
\n  ${good ? 'Nothing lost: every consumer got every message, in order.' : `FAILED: ${lost} lost, ${disordered} out of order, or a step failed (see above).`}`;
  return { good, text };
}
