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
 * duplicates are allowed (at-least-once).
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
  const table = [
    `  ${''.padEnd(12)}${cell('sent')}${cell('delivered')}${cell('lost')}${cell('duplicates', 12)}${cell('redelivered', 13)}${cell('out of order', 14)}`,
    ...rows.map(
      (row) =>
        `  ${row.name.padEnd(12)}${cell(messages.length)}${cell(row.delivered)}${cell(row.lost)}${cell(row.duplicates, 12)}${cell(row.redelivered, 13)}${cell(row.outOfOrder, 14)}`,
    ),
    `  ${'jobs'.padEnd(12)}${cell(jobIds.length)}${cell(jobs.done)}${cell(jobs.lost)}${cell(jobs.duplicates, 12)}${cell('-', 13)}${cell('-', 14)}`,
  ];
  const steps = results.map(
    ({ ok, ms, title }, index) =>
      `  ${String(index + 1).padStart(2)}  ${ok ? 'ok  ' : 'FAIL'}  ${secs(ms).padStart(6)}  ${title}`,
  );
  const good = results.every((result) => result.ok) && lost === 0 && disordered === 0;
  const takeover = record.takeoverMs ? ` (takeover ${secs(record.takeoverMs)})` : '';
  const text = `\n  Steps\n${steps.join('\n')}\n\n  Deliveries\n${table.join('\n')}
  masters       ${record.masters.join(' → ') || '?'}${takeover}
  total time    ${secs(Date.now() - record.startedAt)}
  app logs      ${logDir}
\n  ${good ? 'Nothing lost: every consumer got every message, in order.' : `FAILED: ${lost} lost, ${disordered} out of order, or a step failed (see above).`}`;
  return { good, text };
}
