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

  /** Queues one reply; resolves once it is written. */
  send(clientId: string, reply: unknown): Promise<unknown> {
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
    return appender.publish(reply).catch((error: unknown) => {
      // The client is gone (its folder with it): forget its appender.
      if (error instanceof NoNodeError) this.appenders.delete(clientId);
      throw error;
    });
  }

  async close(): Promise<void> {
    const appenders = [...this.appenders.values()];
    this.appenders.clear();
    await Promise.allSettled(appenders.map((appender) => appender.close()));
  }
}

/**
 * The client side: follows its reply folder (followChildNames), reads each reply batch in
 * sequence order, hands every reply to `deliver`, and deletes the batch.
 */
export class ReplyInbox {
  private subscription?: Subscription;
  private names: readonly string[] = [];
  private readonly done = new Set<string>();
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
        for (const name of this.done) if (!names.includes(name)) this.done.delete(name);
        this.reader.kick();
      },
      error: (error: unknown) => this.failed(error),
    });
  }

  async close(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.reader.idle();
  }

  private async readNew(): Promise<void> {
    for (const { name } of parseBatchEntries(this.names)) {
      if (this.done.has(name)) continue;
      const path = joinPath(this.folder, name);
      const data = await this.connection.get(path).then(
        (read) => read.data,
        (error: unknown) => (error instanceof NoNodeError ? undefined : Promise.reject(error)),
      );
      this.done.add(name);
      // One batch that does not decode (a foreign writer) is reported on its own and removed;
      // the replies after it are not held up.
      let replies: Buffer[] = [];
      try {
        replies = data ? decodeBatch(data, path) : [];
      } catch (error) {
        this.failed(error);
      }
      for (const reply of replies) this.deliver(reply);
      await this.connection.delete(path).catch(ignoreNoNode);
    }
  }
}
