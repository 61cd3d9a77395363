import { AppKind, AppProcess } from './app-process.js';
import type { DeliveryTally } from './delivery-tally.js';
import { say } from './output.js';

/** The part of a producer's GET /status the demo reads. */
export interface ProducerStatus {
  name: string;
  master: string | null;
  isMaster: boolean;
  clients: unknown[];
  /** The answer of a consumer to the producer's `consumer-stats` request, or why none came. */
  consumerStats?:
    | { answer: { name: string; received: { count: number }; jobsDone: number }; ms: number }
    | { error: string; ms: number };
}

/** One line on the request/response round trip a producer's status page made. */
export function describeConsumerStats(status: ProducerStatus | undefined): string {
  const stats = status?.consumerStats;
  if (!stats) return 'no consumer-stats answer';
  if ('error' in stats) return `consumer-stats unanswered after ${stats.ms} ms: ${stats.error}`;
  const { name, received, jobsDone } = stats.answer;
  return `consumer-stats answered by ${name} in ${stats.ms} ms (${received.count} messages, ${jobsDone} jobs)`;
}

export interface DemoAppsOptions {
  logDir: string;
  producers: readonly string[];
  /** Fed every consumer log line: the deliveries the summary counts. */
  tally: DeliveryTally;
  /** Once aborted (Ctrl-C), no app is started any more. */
  abort: AbortSignal;
  /** More environment for every app started (none for the demo). */
  env?: NodeJS.ProcessEnv;
  /** Also fed every line of every app (scripts/chaos.ts follows the master with it). */
  onLine?: (app: AppProcess, line: string) => void;
}

/**
 * The demo's running apps by name, and the URL of each one listening. An app's master and
 * registration log lines, and its jobs concurrency changes, are echoed (`name │ line`) so the flow can be followed live.
 */
export class DemoApps {
  /** After the summary, the apps' shutdown lines would only clutter it. */
  quiet = false;
  private readonly apps = new Map<string, AppProcess>();
  private readonly urls = new Map<string, string>();

  constructor(private readonly options: DemoAppsOptions) {}

  start(kind: AppKind, name: string): AppProcess {
    // After Ctrl-C the cleanup has its list of apps already: start nothing it would miss.
    if (this.options.abort.aborted) throw new Error(`not starting ${name}: interrupted`);
    const app = new AppProcess(
      kind,
      name,
      this.options.logDir,
      (from, line) => {
        if (from.kind === 'consumer') this.options.tally.record(from.name, from.pid, line);
        this.options.onLine?.(from, line);
        const note = /\[(?:Master|Registration)\] (.*)$|\[Jobs\] (concurrency .*)$/.exec(line);
        if (note && !this.quiet)
          say(
            `      ${from.name.padEnd(11)}│ ${(note[1] ?? note[2]).replace(/_c_[0-9a-f-]{36}-/g, '_c_…-').replace(/ mono=\S+$/, '')}`,
          );
      },
      this.options.env,
    );
    this.apps.set(name, app);
    app.url.then(
      (url) => this.apps.get(name) === app && this.urls.set(name, url),
      () => undefined, // reported by the step that waits for this app
    );
    return app;
  }

  has(name: string): boolean {
    return this.apps.has(name);
  }

  /** The latest process started under `name`. */
  get(name: string): AppProcess | undefined {
    return this.apps.get(name);
  }

  /** SIGKILLs `name` and resolves with its process once it is gone. */
  async kill(name: string): Promise<AppProcess> {
    const app = this.apps.get(name)!;
    this.urls.delete(name);
    await app.stop('SIGKILL');
    return app;
  }

  /** Resolves once every app started so far listens; rejects when one exits first. */
  async allListening(): Promise<void> {
    await Promise.all([...this.apps.values()].map((app) => app.url));
  }

  /** The producers listening now, in their configured order: where the sender posts. */
  producerUrls(): string[] {
    return this.options.producers
      .map((name) => this.urls.get(name))
      .filter((url): url is string => !!url);
  }

  /** Every app listening now, by name. */
  listening(): ReadonlyMap<string, string> {
    return this.urls;
  }

  /** The first answer of a listening producer (of `name` only, when given). */
  async producerStatus(name?: string): Promise<ProducerStatus | undefined> {
    for (const [producer, url] of this.urls) {
      if (name && producer !== name) continue;
      if (!this.options.producers.includes(producer)) continue;
      const status = await getJson<ProducerStatus>(`${url}/status`).catch(() => undefined);
      if (status) return status;
    }
    return undefined;
  }

  /** SIGTERM to every app, in parallel; each is SIGKILLed if it does not go within 5 s. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.apps.values()].map((app) => app.stop()));
  }

  /** Last resort when the demo itself exits abnormally. */
  killAll(): void {
    this.apps.forEach((app) => app.signal('SIGKILL'));
  }
}

async function getJson<T>(url: string): Promise<T> {
  return (await (await fetch(url, { signal: AbortSignal.timeout(2000) })).json()) as T;
}
