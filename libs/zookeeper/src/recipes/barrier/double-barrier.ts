import { randomUUID } from 'node:crypto';
import { CreateMode } from '../../connection/create-mode.enum.js';
import { joinPath, validatePath } from '../../connection/paths.js';
import { ZookeeperConnection } from '../../connection/zookeeper-connection.js';
import { Watcher, WatchEventType } from '../../connection/zookeeper-types.js';
import { InvalidOptionsError } from '../../errors/library-errors.js';
import { BarrierWaitOptions } from './barrier.js';
import { ChangeSignal, deadlineOf } from '../../internal/change-signal.js';
import { ignoreNodeExists, ignoreNoNode, whenNoNode } from '../../internal/no-node.js';

const READY = 'ready';

/**
 * No participant returns true from `enter` before `memberCount` participants have entered, and
 * none returns true from `leave` before every participant's node is gone. A dead or cut-off
 * participant counts until its session expires, then no more, so it can hold the others at
 * `leave` for up to the session timeout; with fewer participants than `memberCount`, `enter` times
 * out or waits forever.
 *
 * Layout, Curator's DistributedDoubleBarrier's: each participant is an EPHEMERAL znode
 * `<path>/<uuid>`; the one that sees the count reached creates `<path>/ready`, which lets everyone
 * in. Leaving follows ZooKeeper's double barrier recipe: the lowest participant waits for the
 * others to delete their nodes, the others delete theirs and wait for the lowest, so nobody
 * returns from `leave` before all have left.
 *
 * Guaranteed:
 * - No participant returns true from `enter` before `memberCount` participants have entered (once
 *   `ready` was created, latecomers beyond the count enter at once).
 * - None returns true from `leave` before every participant's node is gone.
 * - A participant whose process dies counts until its session times out, then no more: during
 *   `leave` that releases the others.
 *
 * Not guaranteed (partitions, pauses):
 * - Progress with fewer live participants than `memberCount` (enter times out or waits forever).
 * - Staying inside across a session expiry: a participant whose session expires while it waits to
 *   enter re-creates its node in the new session; one whose session expires inside the barrier is
 *   out of it (its node is gone) and its `leave` just waits for the others.
 */
export class DoubleBarrier {
  readonly participantId = randomUUID();
  private readonly ourPath: string;
  private readonly readyPath: string;

  constructor(
    private readonly connection: ZookeeperConnection,
    readonly path: string,
    readonly memberCount: number,
  ) {
    validatePath(path, 'DoubleBarrier');
    if (!Number.isInteger(memberCount) || memberCount < 1)
      throw new InvalidOptionsError(`memberCount must be a positive integer, got ${memberCount}`);
    this.ourPath = joinPath(path, this.participantId);
    this.readyPath = joinPath(path, READY);
  }

  /**
   * Joins and waits until `memberCount` participants have joined. Resolves false (and withdraws
   * this participant) if `timeoutMs` passes first.
   */
  async enter(options: BarrierWaitOptions = {}): Promise<boolean> {
    const deadline = deadlineOf(options.timeoutMs);
    let readyCreated = false;
    for (;;) {
      await this.connection
        .create(this.ourPath, '', { mode: CreateMode.EPHEMERAL, createParents: true })
        .catch(ignoreNodeExists);
      const signal = new ChangeSignal();
      // Seeing `ready` created is enough, even if the others have left and deleted it since.
      const readyWatch: Watcher = (event) => {
        if (event.type === WatchEventType.CREATED) readyCreated = true;
        signal.watcher();
      };
      if (readyCreated || (await this.connection.exists(this.readyPath, { watch: readyWatch })))
        return true;
      const children = await this.connection.getChildren(this.path, { watch: signal.watcher });
      if (participants(children).length >= this.memberCount) {
        await this.connection.create(this.readyPath).catch(ignoreNodeExists);
        return true;
      }
      if (!(await signal.wait(deadline))) {
        await this.connection.delete(this.ourPath).catch(ignoreNoNode);
        return false;
      }
    }
  }

  /** Leaves and waits until every participant has left; false if `timeoutMs` passes first. */
  async leave(options: BarrierWaitOptions = {}): Promise<boolean> {
    const deadline = deadlineOf(options.timeoutMs);
    let ourNodeExists = true;
    for (;;) {
      const children = participants(await this.children()).sort();
      if (children.length === 0) break;
      const ourIndex = children.indexOf(this.participantId);
      if (ourIndex < 0) ourNodeExists = false;
      if (children.length === 1 && ourIndex === 0) {
        await this.connection.delete(this.ourPath).catch(ignoreNoNode);
        break;
      }
      let awaited: string;
      if (ourIndex === 0) {
        awaited = children[children.length - 1];
      } else {
        awaited = children[0];
        if (ourNodeExists) await this.connection.delete(this.ourPath).catch(ignoreNoNode);
        ourNodeExists = false;
      }
      const signal = new ChangeSignal();
      const stat = await this.connection.exists(joinPath(this.path, awaited), {
        watch: signal.watcher,
      });
      if (stat && !(await signal.wait(deadline))) return false;
    }
    await this.connection.delete(this.readyPath).catch(ignoreNoNode);
    return true;
  }

  private children(): Promise<string[]> {
    return this.connection.getChildren(this.path).catch(whenNoNode<string[]>([]));
  }
}

function participants(children: string[]): string[] {
  return children.filter((name) => name !== READY);
}
