import { describe, expect, it } from '@jest/globals';
import { DeliveryTally } from '../../scripts/demo/delivery-tally.js';
import { newRecord } from '../../scripts/demo/demo-context.js';
import { summarize } from '../../scripts/demo/summary.js';

const received = (offset: number, id: string) => `LOG [Receiver] offset ${offset}: ${id}`;

function run(deliveries: Record<string, string[]>) {
  const tally = new DeliveryTally();
  for (const [name, ids] of Object.entries(deliveries))
    ids.forEach((id, index) => tally.record(name, 1, received(index + 1, id)));
  tally.record('a', 1, 'LOG [Jobs] done j1 (item#0, attempt 1)');
  const record = newRecord();
  record.sent.messages.push('m1', 'm2');
  record.sent.jobs.push('j1');
  record.masters.push('producer-1', 'producer-2');
  record.takeoverMs = 4200;
  return { tally, record };
}

describe('demo summary (npm run demo exit status)', () => {
  const plan = { consumers: ['a', 'b'] };
  const results = [{ title: 'send', ok: true, ms: 1000 }];

  it('is good when every step passed and every consumer got every message', () => {
    const { tally, record } = run({ a: ['m1', 'm2'], b: ['m1', 'm2'] });
    const { good, text } = summarize({ plan, record, tally, results, logDir: '/tmp/logs' });
    expect(good).toBe(true);
    expect(text).toContain('masters       producer-1 → producer-2 (takeover 4.2 s)');
    expect(text).toMatch(/^ {2}a {11} +2 +2 +0 +0 +0 +0 +0$/m);
    expect(text).toContain('Nothing lost');
  });

  it('fails on a lost message or a failed step', () => {
    const { tally, record } = run({ a: ['m1', 'm2'], b: ['m1'] });
    const lost = summarize({ plan, record, tally, results, logDir: '/tmp/logs' });
    expect(lost.good).toBe(false);
    expect(lost.text).toContain('FAILED: 1 lost, 0 out of order');
    const complete = run({ a: ['m1', 'm2'], b: ['m1', 'm2'] });
    const failedStep = [{ title: 'send', ok: false, ms: 1000 }];
    expect(summarize({ plan, ...complete, results: failedStep, logDir: '' }).good).toBe(false);
  });
});
