import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { monoMs } from './clock.js';

export interface LoadOptions {
  /** Messages per second (POST /messages). */
  rate: number;
  /** Jobs per second (POST /jobs). */
  jobRate: number;
  /** The producers listening now, by name. */
  producers: () => ReadonlyMap<string, string>;
  /** One request's deadline: past it, the POST is not acknowledged. */
  requestTimeoutMs?: number;
  /** Requests in flight per producer at most; beyond, the other producer gets the request. */
  maxInFlightPerProducer?: number;
}

/**
 * POSTs messages and jobs at a fixed rate, spread over the producers in turn. Only a 202 counts
 * as acknowledged; a POST that fails or times out is not (its message may still be delivered:
 * the checker counts those apart). Nothing is sent again. When every producer has its maximum in
 * flight (both down or paused), a tick's requests are not sent at all (`notSent`).
 *
 * Requests go through an undici Pool of keep-alive connections per producer address (one
 * request per message, no pipelining, never retried): the global fetch cost ~490 µs of CPU per
 * request (see bench/flow.ts), on the cores the apps under test share.
 */
export class LoadGenerator {
  readonly acknowledged = { messages: [] as string[], jobs: [] as string[] };
  /** When each acknowledgement came, in ms since the load started. */
  readonly ackTimesMs: number[] = [];
  readonly unacknowledged = { messages: [] as string[], jobs: [] as string[] };
  notSent = 0;
  startedAtMs = 0;
  private readonly inFlight = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  private readonly pools = new Map<string, Pool>();
  private turn = 0;
  private stopped = false;

  constructor(private readonly options: LoadOptions) {}

  get inFlightCount(): number {
    return this.pending.size;
  }

  /** Sends until `stop()`; resolves once every request sent has settled. */
  async run(): Promise<void> {
    this.startedAtMs = monoMs();
    let messages = 0;
    let jobs = 0;
    while (!this.stopped) {
      const elapsedS = (monoMs() - this.startedAtMs) / 1000;
      while (messages < Math.floor(elapsedS * this.options.rate))
        this.post('/messages', `m-${++messages}`);
      while (jobs < Math.floor(elapsedS * this.options.jobRate)) this.post('/jobs', `j-${++jobs}`);
      await sleep(10);
    }
    await Promise.all(this.pending);
    await Promise.all([...this.pools.values()].map((pool) => pool.destroy()));
  }

  stop(): void {
    this.stopped = true;
  }

  private post(path: '/messages' | '/jobs', id: string): void {
    const target = this.pickProducer();
    if (!target) {
      this.notSent++;
      return;
    }
    const [name, url] = target;
    const kind = path === '/messages' ? 'messages' : 'jobs';
    this.inFlight.set(name, (this.inFlight.get(name) ?? 0) + 1);
    const request = this.poolFor(url)
      .request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id, text: `chaos ${id}` }),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 3000),
      })
      .then(async (response) => {
        // The status is the acknowledgement; a body cut off after it changes nothing.
        await response.body.dump().catch(() => undefined);
        if (response.statusCode !== 202) throw new Error(`${response.statusCode}`);
        this.acknowledged[kind].push(id);
        this.ackTimesMs.push(monoMs() - this.startedAtMs);
      })
      .catch(() => void this.unacknowledged[kind].push(id))
      .finally(() => {
        this.inFlight.set(name, this.inFlight.get(name)! - 1);
        this.pending.delete(request);
      });
    this.pending.add(request);
  }

  private poolFor(url: string): Pool {
    let pool = this.pools.get(url);
    if (!pool) {
      pool = new Pool(url, { connections: this.options.maxInFlightPerProducer ?? 64 });
      this.pools.set(url, pool);
    }
    return pool;
  }

  private pickProducer(): [string, string] | undefined {
    const producers = [...this.options.producers()];
    const max = this.options.maxInFlightPerProducer ?? 64;
    for (let tried = 0; tried < producers.length; tried++) {
      const candidate = producers[this.turn++ % producers.length]!;
      if ((this.inFlight.get(candidate[0]) ?? 0) < max) return candidate;
    }
    return undefined;
  }
}
