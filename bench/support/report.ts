// The bench's results as data, and docs/benchmarks.{json,md,svg} made from them. Pure: no I/O, no
// clock, so test/bench/report.spec.ts can check the markdown and the chart from a plain object.
// bench/run.ts collects the sections' results, merges them into the stored JSON (a section that did
// not run keeps its last results, marked with their own run), and writes the three files.
// The chart is a Vega-Lite spec compiled to Vega and rendered headless (renderer 'none', toSVG):
// a maintained, declarative charting library that draws SVG in Node without a browser or canvas.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One client's figures in a workload. */
export interface Measure {
  /** Who ran it, e.g. 'ours on wire', 'raw native (zookeeper pkg)'. */
  name: string;
  /** Throughput in the workload's unit; absent for latency-only workloads. */
  rate?: number;
  /** Latency percentiles in ms, where the section measures them. */
  p50Ms?: number;
  p99Ms?: number;
  /** Server write transactions per message (messaging). */
  writesPerMessage?: number;
  /** The process's CPU time per operation, µs (drivers). */
  cpuUsPerOp?: number;
  /** The lowest and highest rate of the rounds (drivers). */
  minRate?: number;
  maxRate?: number;
}

export interface WorkloadResult {
  name: string;
  /** Of the rates: 'ops/s', 'msgs/s', 'pairs/s', 'req/s'. */
  unit: string;
  ours: Measure;
  baseline?: Measure;
  /** Ours over the baseline, exactly as the section computed and printed it. */
  ratio?: number;
  /** What the ratio compares when it is not the rates (e.g. 'p50'). */
  ratioOf?: string;
  /** More clients of the same workload (drivers: raw node-zookeeper-client, ours on native). */
  others?: Measure[];
  note?: string;
}

export interface TargetResult {
  what: string;
  /** As printed: the measured value with its unit or ratio. */
  measured: string;
  /** undefined: not measured (e.g. the wire driver did not connect). */
  met: boolean | undefined;
  note?: string;
}

/** One invocation of the bench: where, on what and how it ran. */
export interface RunInfo {
  /** ISO start time; also the run's id. */
  startedAt: string;
  /** The exact command line, with the BENCH_* / ZK_* variables that were set. */
  command: string;
  sections: string[];
  machine: {
    cpu: string;
    cores: number;
    memoryGiB: number;
    node: string;
    os: string;
  };
  zookeeper: {
    /** 'started by the bench' or 'ZK_CONNECT' (an outside server whose settings are unknown). */
    server: string;
    version?: string;
    fsync?: boolean;
    tickTime?: number;
    servers?: number;
    /** How its JVM ran (absent in runs before it was recorded: the testing server's defaults). */
    jvm?: string;
  };
  /** 1/5/15-minute load averages before the first section and after the last. */
  loadBefore: number[];
  loadAfter: number[];
  durationS: number;
}

export interface SectionResult {
  section: string;
  /** startedAt of the run it came from. */
  run: string;
  /** ISO time the section started. */
  ranAt: string;
  durationS: number;
  /** 1-minute load average when the section started and ended. */
  loadBefore: number;
  loadAfter: number;
  /** How it measured: counts, rounds, in flight. */
  settings: string[];
  workloads: WorkloadResult[];
  targets: TargetResult[];
  notes: string[];
}

/** docs/benchmarks.json. */
export interface BenchResults {
  /** The runs the sections refer to, oldest first. */
  runs: RunInfo[];
  /** By section name, in the bench's section order. */
  sections: Record<string, SectionResult>;
}

/** What a section gets to record its results with (bench/run.ts fills a SectionResult). */
export interface SectionRecorder {
  setting(text: string): void;
  workload(result: WorkloadResult): void;
  target(result: TargetResult): void;
  note(text: string): void;
}

export function sectionRecorder(result: SectionResult): SectionRecorder {
  return {
    setting: (text) => void result.settings.push(text),
    workload: (workload) => void result.workloads.push(workload),
    target: (target) => void result.targets.push(target),
    note: (text) => void result.notes.push(text),
  };
}

/**
 * The stored results with a new run's sections in place of the old ones of the same name; runs no
 * section refers to any more are dropped. Sections come out in `order`, then any others.
 */
export function mergeResults(
  stored: BenchResults | undefined,
  run: RunInfo,
  sections: readonly SectionResult[],
  order: readonly string[],
): BenchResults {
  const all: Record<string, SectionResult> = { ...(stored?.sections ?? {}) };
  for (const section of sections) all[section.section] = section;
  const names = [
    ...order.filter((name) => name in all),
    ...Object.keys(all).filter((name) => !order.includes(name)),
  ];
  const merged: Record<string, SectionResult> = {};
  for (const name of names) merged[name] = all[name];
  const used = new Set(names.map((name) => merged[name].run));
  const runs = [...(stored?.runs ?? []).filter((r) => r.startedAt !== run.startedAt), run]
    .filter((r) => used.has(r.startedAt))
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return { runs, sections: merged };
}

/** A finite number (JSON turns NaN and Infinity into null). */
const isNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);
const integer = (value: number) => Math.round(value).toLocaleString('en-US');
const fixed = (value: number | undefined, digits: number) =>
  isNumber(value) ? value.toFixed(digits) : '–';

export function verdict(met: boolean | undefined): string {
  return met === undefined ? 'not measured' : met ? 'met' : '**NOT met**';
}

/** A markdown table cell: no pipes or line breaks. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(header: string[], rows: string[][], right: readonly number[] = []): string[] {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map((_, i) => (right.includes(i) ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

function measureCell(measure: Measure | undefined, unit: string): string {
  if (!measure) return '–';
  const parts: string[] = [];
  if (isNumber(measure.rate)) parts.push(`${integer(measure.rate)} ${unit}`);
  if (isNumber(measure.p50Ms) || isNumber(measure.p99Ms))
    parts.push(`p50 ${fixed(measure.p50Ms, 1)} / p99 ${fixed(measure.p99Ms, 1)} ms`);
  if (isNumber(measure.writesPerMessage))
    parts.push(`${measure.writesPerMessage.toFixed(2)} writes/msg`);
  if (isNumber(measure.cpuUsPerOp)) parts.push(`${measure.cpuUsPerOp.toFixed(1)} µs CPU/op`);
  if (isNumber(measure.minRate) && isNumber(measure.maxRate))
    parts.push(`rounds ${integer(measure.minRate)}–${integer(measure.maxRate)}`);
  return `${measure.name}: ${parts.join(', ') || '–'}`;
}

function runLabel(results: BenchResults, startedAt: string): string {
  const index = results.runs.findIndex((run) => run.startedAt === startedAt);
  return index < 0 ? 'run ?' : `run ${index + 1}`;
}

const when = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;
const loads = (values: readonly number[]) => values.map((value) => value.toFixed(2)).join(' / ');

/** The rows the chart draws: every measure with a rate, by workload. */
export interface ChartRow {
  workload: string;
  side: 'ours' | 'baseline' | 'other client';
  client: string;
  /** The bar's place inside its workload's band: ours first, then the baseline, then the others. */
  slot: number;
  rate: number;
  label: string;
}

export function chartRows(results: BenchResults): ChartRow[] {
  const rows: ChartRow[] = [];
  for (const section of Object.values(results.sections)) {
    for (const workload of section.workloads) {
      const name = `${section.section}: ${workload.name} (${workload.unit})`;
      const sides: Array<[ChartRow['side'], Measure | undefined]> = [
        ['ours', workload.ours],
        ['baseline', workload.baseline],
        ...(workload.others ?? []).map((m) => ['other client', m] as [ChartRow['side'], Measure]),
      ];
      let slot = 0;
      for (const [side, measure] of sides) {
        if (!isNumber(measure?.rate) || !(measure.rate > 0)) continue;
        rows.push({
          workload: name,
          side,
          client: measure.name,
          slot: slot++,
          rate: measure.rate,
          label: `${measure.name} ${integer(measure.rate)}`,
        });
      }
    }
  }
  return rows;
}

/** Throughput by workload, each client a bar beside the others, on a log scale. */
export function chartSpec(results: BenchResults): TopLevelSpec {
  const rows = chartRows(results);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Throughput by workload: ours against the baseline (log scale)',
      subtitle: 'generated by npm run bench; each section from its own run, see benchmarks.md',
    },
    width: 420,
    // The step is one bar's: a workload's band holds as many bars as the workload with the most.
    height: { step: 11, for: 'offset' },
    background: 'white',
    data: { values: rows as unknown as Record<string, unknown>[] },
    encoding: {
      y: {
        field: 'workload',
        type: 'nominal',
        // In the order of the rows: the sections' order, then each section's own.
        sort: null,
        title: null,
        axis: { labelLimit: 420 },
      },
      yOffset: { field: 'slot', type: 'ordinal', sort: null },
      x: {
        field: 'rate',
        type: 'quantitative',
        scale: { type: 'log' },
        stack: null,
        title: 'per second (log scale)',
      },
      color: {
        field: 'side',
        type: 'nominal',
        scale: {
          domain: ['ours', 'baseline', 'other client'],
          range: ['#1f77b4', '#ff7f0e', '#b0b0b0'],
        },
        title: null,
        legend: { orient: 'top' },
      },
    },
    layer: [
      { mark: { type: 'bar', height: { band: 0.9 } } },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 8, baseline: 'middle' },
        encoding: { text: { field: 'label', type: 'nominal' }, color: { value: '#333' } },
      },
    ],
    config: { view: { stroke: null }, axis: { labelFontSize: 10 } },
  } as TopLevelSpec;
}

/** The chart as an SVG document. */
export async function renderSvg(results: BenchResults): Promise<string> {
  const view = new vega.View(vega.parse(compile(chartSpec(results)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export const REGENERATE =
  'npm run build && npm run bench (or npm run bench -- --only <sections>: the other sections keep ' +
  'their last results from docs/benchmarks.json)';

/** docs/benchmarks.md. `svgName`: the chart's file name beside it. */
export function renderMarkdown(results: BenchResults, svgName = 'benchmarks.svg'): string {
  const out: string[] = [
    '<!-- Generated by bench/run.ts from docs/benchmarks.json: do not edit by hand. -->',
    `<!-- Regenerate: ${REGENERATE}. -->`,
    '',
    '# Benchmarks',
    '',
    `_Generated by \`npm run bench\` (bench/run.ts); do not edit by hand. Regenerate with ` +
      `\`npm run build && npm run bench\`, or refresh some sections with ` +
      `\`npm run bench -- --only <sections>\`: the others keep their last results ` +
      `(docs/benchmarks.json), marked with the run they came from. \`--no-write\` (or ` +
      `\`BENCH_WRITE=0\`) prints without writing these files._`,
    '',
    'Speed is never asserted in tests: these are one machine’s numbers at one moment, and the ' +
      'load average is recorded because every figure moves with it. Ratios are ours over the ' +
      'baseline measured in the same run against the same server.',
    '',
    '## Runs',
    '',
  ];
  out.push(
    ...table(
      [
        'run',
        'date',
        'command',
        'sections',
        'machine',
        'ZooKeeper',
        'load before → after (1/5/15 min)',
        'took',
      ],
      results.runs.map((run, i) => [
        `run ${i + 1}`,
        when(run.startedAt),
        `\`${run.command}\``,
        run.sections.join(', '),
        `${run.machine.cpu}, ${run.machine.cores} cores, ${run.machine.memoryGiB.toFixed(0)} GiB; ` +
          `Node ${run.machine.node}; ${run.machine.os}`,
        zookeeperText(run),
        `${loads(run.loadBefore)} → ${loads(run.loadAfter)}`,
        `${run.durationS.toFixed(0)} s`,
      ]),
    ),
    '',
  );

  const sections = Object.values(results.sections);
  out.push(
    '## Throughput by workload',
    '',
    `![Throughput by workload](${svgName})`,
    '',
    '_Drawn with Vega-Lite, compiled to Vega and rendered headless to SVG: a maintained, ' +
      'declarative charting library that needs no browser or canvas in Node._',
    '',
  );

  const allTargets = sections.flatMap((section) =>
    section.targets.map((target) => [
      section.section,
      target.what,
      target.measured,
      verdict(target.met) + (target.note ? ` ${target.note}` : ''),
    ]),
  );
  if (allTargets.length) {
    out.push(
      '## Targets',
      '',
      'From the issues; printed and recorded, never asserted.',
      '',
      ...table(['section', 'target', 'measured', 'result'], allTargets),
      '',
    );
  }

  for (const section of sections) {
    out.push(
      `## ${section.section}`,
      '',
      `${runLabel(results, section.run)}, ${when(section.ranAt)}, ` +
        `\`${results.runs.find((run) => run.startedAt === section.run)?.command ?? '?'}\`; ` +
        `took ${section.durationS.toFixed(0)} s; load ${section.loadBefore.toFixed(2)} → ` +
        `${section.loadAfter.toFixed(2)} (1 min).`,
      '',
    );
    for (const setting of section.settings) out.push(`- ${setting}`);
    if (section.settings.length) out.push('');
    if (section.workloads.length) {
      const others = section.workloads.some((workload) => workload.others?.length);
      out.push(
        ...table(
          ['workload', 'ours', 'baseline', 'ours/baseline', ...(others ? ['other clients'] : [])],
          section.workloads.map((workload) => [
            workload.name + (workload.note ? ` (${workload.note})` : ''),
            measureCell(workload.ours, workload.unit),
            measureCell(workload.baseline, workload.unit),
            !isNumber(workload.ratio)
              ? '–'
              : `${workload.ratio.toFixed(2)}${workload.ratioOf ? ` (${workload.ratioOf})` : ''}`,
            ...(others
              ? [
                  (workload.others ?? []).map((m) => measureCell(m, workload.unit)).join('; ') ||
                    '–',
                ]
              : []),
          ]),
          [3],
        ),
        '',
      );
    }
    if (section.targets.length) {
      out.push(
        ...table(
          ['target', 'measured', 'result'],
          section.targets.map((target) => [
            target.what,
            target.measured,
            verdict(target.met) + (target.note ? ` ${target.note}` : ''),
          ]),
          [1],
        ),
        '',
      );
    }
    for (const note of section.notes) out.push(`- ${note}`);
    if (section.notes.length) out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function zookeeperText(run: RunInfo): string {
  const zk = run.zookeeper;
  if (zk.server === 'ZK_CONNECT') return 'an outside server (ZK_CONNECT), settings unknown';
  return [
    `${zk.servers ?? 1} server ${zk.version ?? '(version unknown)'} ${zk.server}`,
    `fsync ${zk.fsync === undefined ? '?' : zk.fsync ? 'on' : 'off'}`,
    `tickTime ${zk.tickTime ?? '?'} ms`,
    ...(zk.jvm ? [`JVM ${zk.jvm}`] : []),
  ].join(', ');
}
