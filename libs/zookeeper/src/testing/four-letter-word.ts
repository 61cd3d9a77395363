import { connect } from 'node:net';
import { ZookeeperTestingError } from '../errors/library-errors.js';
import { sleep } from '../internal/sleep.js';

export type FourLetterWord =
  'ruok' | 'srvr' | 'mntr' | 'stat' | 'cons' | 'conf' | 'envi' | 'wchs' | 'isro';

export type ZookeeperServerMode = 'leader' | 'follower' | 'observer' | 'standalone' | 'read-only';

/**
 * Sends a four-letter-word command and resolves with the full reply (the server closes the
 * connection after answering). Rejects on connection errors and when no complete reply came
 * within `timeoutMs` (a paused JVM still accepts connections through the kernel backlog but
 * never answers, so the deadline is what detects it).
 */
export function fourLetterWord(
  host: string,
  port: number,
  word: FourLetterWord,
  timeoutMs = 2_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(
      () =>
        finish(
          new ZookeeperTestingError(
            `'${word}' to ${host}:${port} got no answer within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    socket.on('connect', () => socket.end(word));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish(undefined));
    socket.on('error', (error) => finish(error));
  });
}

/** `true` when the server answers `ruok` with `imok`; `false` for any failure, never throws. */
export async function isServerOk(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  try {
    return (await fourLetterWord(host, port, 'ruok', timeoutMs)) === 'imok';
  } catch {
    return false;
  }
}

/**
 * The `Mode:` of a `srvr`/`stat` reply, or `undefined` when the reply has none (a quorum member
 * without quorum answers "This ZooKeeper instance is not currently serving requests").
 */
export function parseServerMode(reply: string): ZookeeperServerMode | undefined {
  const match = /^Mode:\s*(\S+)/m.exec(reply);
  if (!match) return undefined;
  const mode = match[1]!.toLowerCase();
  if (mode === 'leader' || mode === 'follower' || mode === 'observer' || mode === 'standalone')
    return mode;
  if (mode === 'read-only' || mode === 'readonly') return 'read-only';
  return undefined;
}

/** `mntr` replies are `key<TAB>value` lines; values stay strings because some are not numeric. */
export function parseMntr(reply: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of reply.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) result[line.slice(0, tab).trim()] = line.slice(tab + 1).trim();
  }
  return result;
}

export interface SrvrInfo {
  version?: string;
  mode?: ZookeeperServerMode;
  zxid?: bigint;
  nodeCount?: number;
  connections?: number;
}

export function parseSrvr(reply: string): SrvrInfo {
  const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(reply)?.[1]?.trim();
  const zxid = field('Zxid');
  const nodeCount = field('Node count');
  const connections = field('Connections');
  return {
    version: field('Zookeeper version')?.split(/[-,\s]/)[0],
    mode: parseServerMode(reply),
    zxid: zxid !== undefined && /^0x[0-9a-f]+$/i.test(zxid) ? BigInt(zxid) : undefined,
    nodeCount: nodeCount !== undefined ? Number(nodeCount) : undefined,
    connections: connections !== undefined ? Number(connections) : undefined,
  };
}

/** The server's mode via `srvr`, or `undefined` when it is unreachable, silent or not serving. */
export async function getServerMode(
  host: string,
  port: number,
  timeoutMs = 1_000,
): Promise<ZookeeperServerMode | undefined> {
  try {
    return parseServerMode(await fourLetterWord(host, port, 'srvr', timeoutMs));
  } catch {
    return undefined;
  }
}

/**
 * Polls `probe` until it returns something other than `undefined`. `abort` lets a caller stop
 * early (e.g. the JVM exited) by returning an error to throw.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: {
    timeoutMs: number;
    intervalMs?: number;
    description: string;
    abort?: () => Error | undefined;
  },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 100;
  for (;;) {
    const aborted = options.abort?.();
    if (aborted) throw aborted;
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline)
      throw new ZookeeperTestingError(
        `Timed out after ${options.timeoutMs} ms waiting for ${options.description}`,
      );
    await sleep(interval);
  }
}
