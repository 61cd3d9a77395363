// The clients the bench sections compare: the raw `zookeeper` package (C client), raw
// node-zookeeper-client (pure JS), and the library's ZookeeperConnection on a chosen driver.
import ZooKeeper from 'zookeeper';
import nzk from 'node-zookeeper-client';
import { ZookeeperConnection, ZookeeperOptions } from '../../libs/zookeeper/src/index.js';
import type { SectionRecorder } from './report.js';

/** What a section gets from bench/run.ts: the server, and a root node of its own run. */
export interface BenchContext {
  connectString: string;
  root: string;
  /**
   * A step of the section: on a terminal the section's live step (listr2), otherwise a plain
   * `[section N s, load X] message` line.
   */
  progress(message: string): void;
  /** The section's results for docs/benchmarks.{md,json,svg}: what it printed, as data. */
  record: SectionRecorder;
}

export const quietLogger = { log() {}, warn() {}, error: console.error };

export async function connectRawNative(connectString: string): Promise<ZooKeeper> {
  const client = new ZooKeeper({ connect: connectString, timeout: 10_000, debug_level: 0 });
  await new Promise<void>((resolve) => {
    client.once('connect', () => resolve());
    client.init({});
  });
  return client;
}

/** node-zookeeper-client's callbacks as promises. */
export interface NzkClient {
  create(path: string, data: Buffer, mode: number): Promise<string>;
  remove(path: string): Promise<void>;
  getData(path: string, watcher?: nzk.Watcher): Promise<Buffer>;
  setData(path: string, data: Buffer): Promise<nzk.Stat>;
  close(): void;
}

export async function connectNzk(connectString: string): Promise<NzkClient> {
  const client = nzk.createClient(connectString, { sessionTimeout: 30_000, retries: 0 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('node-zookeeper-client: no session in 15 s')),
      15_000,
    );
    client.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.connect();
  });
  const settle =
    <T>(resolve: (value: T) => void, reject: (error: Error) => void) =>
    (error: Error | null, value: T) =>
      error ? reject(error) : resolve(value);
  return {
    create: (path, data, mode) =>
      new Promise((resolve, reject) => client.create(path, data, mode, settle(resolve, reject))),
    remove: (path) =>
      new Promise((resolve, reject) =>
        client.remove(path, -1, (error) => (error ? reject(error) : resolve())),
      ),
    getData: (path, watcher) =>
      new Promise((resolve, reject) => client.getData(path, watcher, settle(resolve, reject))),
    setData: (path, data) =>
      new Promise((resolve, reject) => client.setData(path, data, -1, settle(resolve, reject))),
    close: () => client.close(),
  };
}

/** The library's connection on `driver`, or why it could not connect (e.g. wire not built yet). */
export async function connectOurs(
  connectString: string,
  driver?: ZookeeperOptions['driver'],
): Promise<ZookeeperConnection | { unavailable: string }> {
  const connection = new ZookeeperConnection({ connectString, driver, logger: quietLogger });
  try {
    await connection.connect();
    return connection;
  } catch (error) {
    await connection.close().catch(() => undefined);
    return { unavailable: error instanceof Error ? error.message : String(error) };
  }
}
