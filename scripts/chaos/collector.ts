import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Append, Delivery, JobRun, Term } from './observations.js';

/** One app process the run started, in start order. */
export interface SpawnedApp {
  kind: 'producer' | 'consumer';
  name: string;
  pid: number;
  logFile: string;
}

const MONO = / mono=([\d.]+)\s*$/;
const RECEIVED = /\[Receiver\] offset (\d+): (\S+) /;
const JOB_DONE = /\[Jobs\] done (\S+) /;
const ELECTED = /\[Master\] elected master: .* term (\d+)/;
const DEPOSED = /\[Master\] no longer master/;
const APPENDED = /\[Master\] appended \S*m(\d+)-(\d{10}) \((\d+) messages\) term (\d+)/;

export interface CollectedLogs {
  consumers: Record<string, Delivery[]>;
  jobRuns: JobRun[];
  appends: Append[];
  terms: Term[];
}

/**
 * Reads the apps' log files after the run (each line a consumer or master printed, with its
 * monotonic stamp) into the checker's records; lines without a stamp are someone else's.
 */
export async function collectLogs(apps: readonly SpawnedApp[]): Promise<CollectedLogs> {
  const logs: CollectedLogs = { consumers: {}, jobRuns: [], appends: [], terms: [] };
  for (const app of apps) {
    const deliveries = (logs.consumers[app.name] ??= []);
    const open: Term[] = [];
    const lines = createInterface({ input: createReadStream(app.logFile), crlfDelay: Infinity });
    for await (const line of lines) {
      const stamp = MONO.exec(line);
      if (!stamp) continue;
      const atMs = Number(stamp[1]);
      let match: RegExpExecArray | null;
      if (app.kind === 'consumer') {
        if ((match = RECEIVED.exec(line))) {
          deliveries.push({ pid: app.pid, offset: Number(match[1]), id: match[2]!, atMs });
        } else if ((match = JOB_DONE.exec(line))) {
          logs.jobRuns.push({ id: match[1]!, consumer: app.name, pid: app.pid, atMs });
        }
      } else if ((match = APPENDED.exec(line))) {
        logs.appends.push({
          producer: app.name,
          pid: app.pid,
          sequence: Number(match[2]),
          messages: Number(match[3]),
          term: Number(match[4]),
          atMs,
        });
      } else if ((match = ELECTED.exec(line))) {
        const term = {
          producer: app.name,
          pid: app.pid,
          term: Number(match[1]),
          electedAtMs: atMs,
        };
        logs.terms.push(term);
        open.push(term);
      } else if (DEPOSED.test(line)) {
        for (const term of open.splice(0)) term.endedAtMs = atMs;
      }
    }
    if (app.kind === 'producer') delete logs.consumers[app.name];
  }
  return logs;
}
