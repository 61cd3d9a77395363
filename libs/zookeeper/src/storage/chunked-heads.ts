import { joinPath } from '../connection/paths.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import {
  NoChildrenForEphemeralsError,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
} from '../errors/zookeeper-errors.js';
import { ignoreNoNode, whenNoNode } from '../internal/no-node.js';

/** The empty child that flags a persistent head whose key has chunk generations. */
export const CHUNKED_FLAG = '__chunked';
/** Deletes of a flagged head retried when a writer flags it again in between. */
const DELETE_ATTEMPTS = 5;

/**
 * The flag that lets a small write skip the chunk folder: a persistent head that holds (or held)
 * a chunked value has an empty `__chunked` child, so a write whose reply says the head has no
 * children knows there are no chunks to collect. Writers of a large value raise it after the head
 * switch; collectors lower it once no generation is left, then look again and raise it back when
 * a writer raced in. Ephemeral heads cannot have children and TTL heads would stop expiring:
 * neither is flagged (their writes look in the chunk folder instead). A flag lost to a crash only
 * leaves chunks for `gc()`; it never makes a value unreadable.
 */
export class ChunkedHeads {
  constructor(
    private readonly connection: ZookeeperConnection,
    /** The key's head path on the connection. */
    private readonly headPath: (key: string) => string,
  ) {}

  async flag(key: string): Promise<void> {
    await this.connection.create(this.flagPath(key)).catch((error) => {
      // Already flagged; the head is gone; or it is (again) an ephemeral node.
      if (
        error instanceof NodeExistsError ||
        error instanceof NoNodeError ||
        error instanceof NoChildrenForEphemeralsError
      )
        return;
      throw error;
    });
  }

  async unflag(key: string): Promise<void> {
    await this.connection.delete(this.flagPath(key)).catch(ignoreNoNode);
  }

  async isFlagged(key: string): Promise<boolean> {
    return (await this.connection.exists(this.flagPath(key))) !== undefined;
  }

  /**
   * Deletes the key's head. Its flag goes first (a head with children cannot be deleted), and
   * comes back when the delete then fails: the head keeps its value, so it keeps its flag. The
   * chunks themselves are never touched here: they are collected once the head is gone.
   */
  async deleteHead(key: string, version?: number): Promise<void> {
    const path = this.headPath(key);
    let unflagged = false;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.connection.delete(path, { version });
          return;
        } catch (error) {
          const retry =
            error instanceof NotEmptyError &&
            attempt < DELETE_ATTEMPTS &&
            (await this.onlyFlag(path));
          if (!retry) throw error;
        }
        await this.unflag(key);
        unflagged = true;
      }
    } catch (error) {
      if (unflagged) await this.flag(key).catch(() => undefined);
      throw error;
    }
  }

  /** The flag is the head's only child (no sub-key keeps the head from being deleted). */
  private async onlyFlag(path: string): Promise<boolean> {
    const children = await this.connection.getChildren(path).catch(whenNoNode<string[]>([]));
    return children.every((name) => name === CHUNKED_FLAG);
  }

  private flagPath(key: string): string {
    return joinPath(this.headPath(key), CHUNKED_FLAG);
  }
}
