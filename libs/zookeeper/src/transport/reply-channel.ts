import type { WritePacket } from '@nestjs/microservices';
import { Subscription } from 'rxjs';
import { joinPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { NodeExistsError, NoNodeError } from '../errors/zookeeper-errors.js';
import { ignoreNoNode, whenNoNode } from '../internal/no-node.js';
import { SerialRunner } from '../internal/serial-runner.js';
import { BatchAppender } from '../messaging/shared/batch-appender.js';
import { parseBatchEntries } from '../messaging/shared/entry-names.js';
import { singleFolder } from '../messaging/shared/segmented-folder.js';
import { decodeBatch } from '../messaging/shared/message-batch.js';
import { followChildNames } from '../watch/child-names.js';
import { TransportPaths } from './transport-paths.js';

/** Reply folders whose client has no presence node: left by a client that crashed. */
export async function reapDeadReplyFolders(
  connection: ZookeeperConnection,
  paths: TransportPaths,
): Promise<void> {
  const folders = await connection.getChildren(paths.replies).catch(whenNoNode([]));
  const alive = new Set(await connection.getChildren(paths.clients).catch(whenNoNode([])));
  for (const folder of folders) {
    if (alive.has(folder)) continue;
    await removeReplyFolder(connection, paths.replyFolder(folder));
  }
}

/** Deletes a reply folder with its replies (unless a reply lands meanwhile: then it stays). */
export async function removeReplyFolder(
  connection: ZookeeperConnection,
  path: string,
): Promise<void> {
  await connection.delete(path, { recursive: true }).catch((error: unknown) => {
    if (error instanceof NodeExistsError) return;
    ignoreNoNode(error);
  });
}

/** Reply batches a client reads side by side. */
const READ_AHEAD = 16;

/** The replies to one request (see ReplyOutbox.open). */
export interface RequestReplies {
  send(reply: WritePacket): void;
  settled(): Promise<void>;
}

/**
 * The server side of the reply channels: replies to one client are batched (like queue messages)
 * into sequential znodes under that client's reply folder. A client that is gone has no folder
 * (it deletes it on close; the next client to start reaps those of crashed clients), so replies to
 * it fail to be written and are dropped.
 */
export class ReplyOutbox {
  private readonly appenders = new Map<string, BatchAppender>();

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly paths: TransportPaths,
  ) {}

  /**
   * The replies to one request, taken from `clientId`: `send` serializes and queues each (not
   * awaited: replies are batched, and the next request must not wait for this write; a failed
   * serialization or write goes to `failed`), and `settled()` resolves when the request may be
   * acknowledged.
   *
   * While replies to the client come one at a time (its outbox quiet: nothing in flight, and the
   * last batch went alone, so not for the first request after a burst), a reply is sent at once
   * and the request settles a turn later, once the create has reached the driver: the
   * acknowledgement then goes to the server after it (one session, applied in order) instead of
   * the reply waiting behind that fsync, and a server stopped in between has not applied the
   * acknowledgement alone. Values of such a request's stream queued behind its first are
   * awaited before it settles (rare: a lone streaming request). Under load, replies are batched
   * (one write for many) and requests settle at once: the ack may go first.
   */
  open(
    clientId: string,
    serialize: (reply: WritePacket) => unknown,
    failed: (error: unknown) => void,
  ): RequestReplies {
    let firstSentNow = false;
    let lastSentNow = false;
    let last: Promise<unknown> = Promise.resolve();
    let settled: Promise<void> | undefined;
    return {
      send: (reply) => {
        let bytes: unknown;
        try {
          bytes = serialize(reply);
        } catch (error) {
          // Reported; the request still settles (its caller times out).
          return failed(error);
        }
        const sent = this.send(clientId, bytes);
        last = sent.written.catch(failed);
        if (!settled) firstSentNow ||= sent.sentNow;
        lastSentNow = sent.sentNow;
      },
      settled: () =>
        (settled ??= new Promise<void>((resolve) => {
          if (lastSentNow) setImmediate(resolve);
          else if (firstSentNow) void last.then(() => resolve());
          else resolve();
        })),
    };
  }

  /**
   * Queues one reply; `written` resolves once it is written. A quiet outbox sends it at once (in
   * this turn), and `sentNow` says so; otherwise it is batched with the others of this turn, or
   * queued behind the write in flight.
   */
  private send(clientId: string, reply: unknown): { written: Promise<unknown>; sentNow: boolean } {
    let appender = this.appenders.get(clientId);
    if (!appender) {
      appender = new BatchAppender(
        this.connection,
        `replies to ${clientId}`,
        // One folder (no roll-over): a reply inbox lives as long as its client.
        singleFolder(this.connection, this.paths.replyFolder(clientId)),
        { lingerMs: 0 },
        () => Promise.resolve(),
      );
      this.appenders.set(clientId, appender);
    }
    const sentNow = appender.quiet;
    const written = appender.publish(reply).catch((error: unknown) => {
      // The client is gone (its folder with it): forget its appender (not a newer one).
      if (error instanceof NoNodeError && this.appenders.get(clientId) === appender) {
        this.appenders.delete(clientId);
      }
      throw error;
    });
    if (sentNow) void appender.flush();
    return { written, sentNow };
  }

  async close(): Promise<void> {
    const appenders = [...this.appenders.values()];
    this.appenders.clear();
    await Promise.allSettled(appenders.map((appender) => appender.close()));
  }
}

/**
 * The client side: follows its reply folder (followChildNames), reads the new reply batches side
 * by side, hands every reply to `deliver` in sequence order (a streamed reply's values may span
 * batches), and deletes each batch once delivered, without waiting for the delete before the
 * next read (the folder stays short under load: each new event names every batch still in it).
 */
export class ReplyInbox {
  private subscription?: Subscription;
  private names: readonly string[] = [];
  private readonly done = new Set<string>();
  private readonly deletes = new Set<Promise<void>>();
  private readonly reader = new SerialRunner(
    () => this.readNew(),
    (error) => this.failed(error),
  );

  constructor(
    private readonly connection: ZookeeperConnection,
    private readonly folder: string,
    private readonly deliver: (reply: Buffer) => void,
    private readonly failed: (error: unknown) => void,
  ) {}

  start(): void {
    // By name (a persistent watch on the wire driver): a reply is read on its event, without
    // listing the folder first, one round trip less per request.
    this.subscription = followChildNames(this.connection, this.folder).subscribe({
      next: (names) => {
        this.names = names;
        const present = new Set(names);
        for (const name of this.done) if (!present.has(name)) this.done.delete(name);
        this.reader.kick();
      },
      error: (error: unknown) => this.failed(error),
    });
  }

  async close(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.reader.idle();
    await Promise.all(this.deletes);
  }

  private async readNew(): Promise<void> {
    const fresh = parseBatchEntries(this.names).filter(({ name }) => !this.done.has(name));
    // A window at a time: a backlog (after an outage) is not held in memory all at once.
    for (let start = 0; start < fresh.length; start += READ_AHEAD) {
      await this.readWindow(fresh.slice(start, start + READ_AHEAD));
    }
  }

  private async readWindow(entries: readonly { name: string }[]): Promise<void> {
    const reads = entries.map(({ name }) => {
      const path = joinPath(this.folder, name);
      const data = this.connection.get(path).then(
        (read) => read.data,
        (error: unknown) => (error instanceof NoNodeError ? undefined : Promise.reject(error)),
      );
      // Awaited in order below; one that fails first leaves the others unawaited.
      data.catch(() => undefined);
      return { name, path, data };
    });
    for (const { name, path, data } of reads) {
      const bytes = await data;
      this.done.add(name);
      // One batch that does not decode (a foreign writer) is reported on its own and removed;
      // the replies after it are not held up.
      let replies: Buffer[] = [];
      try {
        replies = bytes ? decodeBatch(bytes, path) : [];
      } catch (error) {
        this.failed(error);
      }
      for (const reply of replies) this.deliver(reply);
      this.remove(path);
    }
  }

  private remove(path: string): void {
    const deleting: Promise<void> = this.connection
      .delete(path)
      .catch(ignoreNoNode)
      .catch((error: unknown) => this.failed(error))
      .finally(() => this.deletes.delete(deleting));
    this.deletes.add(deleting);
  }
}
