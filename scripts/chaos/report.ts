import { allPassed, type ChaosVerdict } from './checker.js';
import type { ChaosObservations, FaultRecord } from './observations.js';

export interface RunSettings {
  rate: number;
  jobRate: number;
  sessionTimeoutMs: number;
  /** How network partitions were done. */
  partitions: string;
  /** The ACL of what the apps created ('open', or protected with --acl). */
  acl: string;
  logDir: string;
  notSent: number;
  /** The machine's 1-minute load average when the load started and when it ended. */
  loadAverage: { start: number; end: number };
  cores: number;
}

/** The report's JSON (the fields the issue asks for first). */
export interface ChaosReport {
  seed: number;
  durationMs: number;
  faults: Array<Pick<FaultRecord, 'type' | 'target' | 'atMs'> & Omit<FaultRecord, 'atMs'>>;
  acknowledged: { messages: number; jobs: number };
  delivered: Record<string, number>;
  lost: number;
  outOfOrder: number;
  duplicates: ChaosVerdict['duplicates'];
  masterOverlaps: number;
  checks: ChaosVerdict['checks'];
  passed: boolean;
  settings: RunSettings;
  details: {
    lostByConsumer: Record<string, number>;
    skippedByConsumer: Record<string, number>;
    jobs: ChaosVerdict['jobs'];
    unacknowledged: { messages: number; jobs: number };
    unacknowledgedDelivered: ChaosVerdict['unacknowledgedDelivered'];
    unattributedBatches: number;
    masterTerms: number;
    throughput: { overall: number; duringFaults: number; withoutFaults: number };
    faultTimeMs: number;
    longestStallMs: { acknowledgements: number; deliveries: number };
    takeoverMs: Array<{ fault: string; atMs: number; takeoverMs?: number }>;
    leftovers: ChaosObservations['leftovers'];
  };
}

/** Merged [start, end) intervals of the faults, ms since the load started. */
function faultIntervals(faults: readonly FaultRecord[], endMs: number): Array<[number, number]> {
  const intervals = faults
    .map((f): [number, number] => [f.atMs, Math.min(endMs, f.atMs + (f.healedAfterMs ?? 0))])
    .sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [start, end] of intervals) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

function longestGap(times: number[], startMs: number, endMs: number): number {
  const sorted = times.filter((t) => t >= startMs && t <= endMs).sort((a, b) => a - b);
  let gap = 0;
  let previous = startMs;
  for (const time of sorted) {
    gap = Math.max(gap, time - previous);
    previous = time;
  }
  return Math.max(gap, endMs - previous);
}

export function buildReport(
  run: ChaosObservations,
  verdict: ChaosVerdict,
  settings: RunSettings,
): ChaosReport {
  const end = run.durationMs;
  const intervals = faultIntervals(run.faults, end);
  const faultTimeMs = intervals.reduce((sum, [start, stop]) => sum + (stop - start), 0);
  const inFault = (t: number) => intervals.some(([start, stop]) => t >= start && t < stop);
  const acks = run.ackTimesMs.filter((t) => t <= end);
  const acksInFaults = acks.filter(inFault).length;
  const perSecond = (count: number, ms: number) => (ms > 0 ? Math.round((count * 1000) / ms) : 0);
  // When the log's consumers first got each offset: the delivery side's progress.
  const firstDelivery = new Map<number, number>();
  for (const deliveries of Object.values(run.consumers))
    for (const d of deliveries) {
      const at = d.atMs - run.loadStartedAtMs;
      if (at < (firstDelivery.get(d.offset) ?? Infinity)) firstDelivery.set(d.offset, at);
    }
  const takeovers = run.faults
    .filter((f) => f.type === 'master-kill' || f.type === 'master-pause')
    .map((f) => {
      const at = run.loadStartedAtMs + f.atMs;
      const next = run.terms
        .filter((term) => term.electedAtMs > at)
        .sort((a, b) => a.electedAtMs - b.electedAtMs)[0];
      return {
        fault: `${f.type} ${f.target}`,
        atMs: Math.round(f.atMs),
        takeoverMs: next ? Math.round(next.electedAtMs - at) : undefined,
      };
    });
  return {
    seed: run.seed,
    durationMs: run.durationMs,
    faults: run.faults.map((f) => ({ ...f, atMs: Math.round(f.atMs) })),
    acknowledged: verdict.acknowledged,
    delivered: verdict.delivered,
    lost: verdict.lost,
    outOfOrder: verdict.outOfOrder,
    duplicates: verdict.duplicates,
    masterOverlaps: verdict.masterOverlaps,
    checks: verdict.checks,
    passed: allPassed(verdict),
    settings,
    details: {
      lostByConsumer: verdict.lostByConsumer,
      skippedByConsumer: verdict.skippedByConsumer,
      jobs: verdict.jobs,
      unacknowledged: {
        messages: run.unacknowledged.messages.length,
        jobs: run.unacknowledged.jobs.length,
      },
      unacknowledgedDelivered: verdict.unacknowledgedDelivered,
      unattributedBatches: verdict.unattributedBatches,
      masterTerms: run.terms.length,
      throughput: {
        overall: perSecond(acks.length, end),
        duringFaults: perSecond(acksInFaults, faultTimeMs),
        withoutFaults: perSecond(acks.length - acksInFaults, end - faultTimeMs),
      },
      faultTimeMs: Math.round(faultTimeMs),
      longestStallMs: {
        acknowledgements: Math.round(longestGap(acks, 0, end)),
        deliveries: Math.round(longestGap([...firstDelivery.values()], 0, end)),
      },
      takeoverMs: takeovers,
      leftovers: run.leftovers,
    },
  };
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The report as text for the terminal. */
export function formatReport(report: ChaosReport): string {
  const { details } = report;
  const lines: string[] = [];
  lines.push('', `  Chaos run: seed ${report.seed}, ${s(report.durationMs)} of load`);
  lines.push(
    `  partitions: ${report.settings.partitions}`,
    `  ACLs: ${report.settings.acl}`,
    `  machine: ${report.settings.cores} cores, load average ${report.settings.loadAverage.start.toFixed(1)} at the start of the load, ${report.settings.loadAverage.end.toFixed(1)} at its end`,
    '',
    `  Faults injected (${report.faults.length})`,
  );
  for (const fault of report.faults) {
    const healed =
      fault.healedAfterMs !== undefined ? `healed after ${s(fault.healedAfterMs)}` : 'not healed';
    lines.push(
      `    ${s(fault.atMs).padStart(8)}  ${fault.type.padEnd(16)} ${fault.target.padEnd(22)} ${healed}${fault.note ? ` (${fault.note})` : ''}`,
    );
  }
  const { messages, jobs } = report.acknowledged;
  lines.push(
    '',
    `  Messages   acknowledged ${messages} (rate ${report.settings.rate}/s), not acknowledged ${details.unacknowledged.messages} (of which delivered anyway ${details.unacknowledgedDelivered.messages}), not sent ${report.settings.notSent}`,
  );
  for (const [name, count] of Object.entries(report.delivered))
    lines.push(
      `    ${name.padEnd(12)} delivered ${count}, lost ${details.lostByConsumer[name]}, skipped offsets ${details.skippedByConsumer[name]}`,
    );
  lines.push(
    `  Jobs       acknowledged ${jobs}, done ${details.jobs.done}, never done ${details.jobs.lost}, repeated ${report.duplicates.jobRepeats}`,
    `  Lost ${report.lost} · out of order ${report.outOfOrder} · master overlaps ${report.masterOverlaps} (${details.masterTerms} terms)`,
    `  Duplicates ${report.duplicates.total}: redelivered after a restart ${report.duplicates.redeliveredAfterRestart}, after a lost session ${report.duplicates.redeliveredAfterSessionLoss} (before any fault ${report.duplicates.unexplained}), from the relay ${report.duplicates.fromRelay}`,
    `  Throughput ${details.throughput.overall}/s overall, ${details.throughput.duringFaults}/s during faults (${s(details.faultTimeMs)}), ${details.throughput.withoutFaults}/s without`,
    `  Longest stall: ${s(details.longestStallMs.acknowledgements)} without an acknowledgement, ${s(details.longestStallMs.deliveries)} without a new offset delivered`,
  );
  const takeovers = details.takeoverMs
    .map((t) => `${t.fault} ${t.takeoverMs === undefined ? '—' : s(t.takeoverMs)}`)
    .join(', ');
  lines.push(`  Takeovers: ${takeovers || 'none'}`, '', '  Checks');
  for (const [name, check] of Object.entries(report.checks))
    lines.push(
      `    ${check.result === 'pass' ? '✔' : '✘'} ${name}${check.result === 'fail' ? `: ${check.reason}` : ''}`,
    );
  lines.push(
    '',
    `  ${report.passed ? 'PASSED' : 'FAILED'} · logs in ${report.settings.logDir} · replay: npm run chaos -- --seed ${report.seed} --duration ${report.durationMs / 1000} --rate ${report.settings.rate}${report.settings.acl === 'open' ? '' : ' --acl'}`,
  );
  return lines.join('\n');
}
