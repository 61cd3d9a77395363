import { LoggerService } from '@nestjs/common';
import { pairwise, Subscription } from 'rxjs';
import { ConnectionState } from '../connection/connection-state.enum.js';
import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { NodeExistsError } from '../errors/zookeeper-errors.js';

/**
 * Ephemeral keys die with the session. Like Curator's PersistentNode, the storage re-creates the
 * ones it wrote (with their last written bytes) when a new session follows an expiry. Between the
 * expiry and the re-creation the keys are absent: readers can observe that gap.
 */
export class EphemeralKeys {
  private readonly keys = new Map<string, Buffer>();
  private subscription?: Subscription;

  constructor(
    private readonly connection: ZookeeperConnection,
    /** Creates the key in the current session; NodeExistsError when it exists. */
    private readonly create: (key: string, bytes: Buffer) => Promise<unknown>,
    private readonly nodePath: (key: string) => string,
    private readonly logger: LoggerService,
    private readonly enabled: boolean,
  ) {}

  remember(key: string, bytes: Buffer): void {
    this.keys.set(key, bytes);
    // Subscribed on first use, so storages and scopes without ephemeral keys hold no listener.
    if (this.enabled && !this.subscription) {
      this.subscription = this.connection.state$
        .pipe(pairwise())
        .subscribe(([previous, current]) => {
          if (current === ConnectionState.CONNECTED && previous === ConnectionState.EXPIRED) {
            void this.recreateAll();
          }
        });
    }
  }

  forget(key: string): void {
    this.keys.delete(key);
  }

  close(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.keys.clear();
  }

  private async recreateAll(): Promise<void> {
    await Promise.all(
      [...this.keys].map(async ([key, bytes]) => {
        try {
          await this.recreate(key, bytes);
        } catch (error) {
          if (error instanceof NodeExistsError) {
            this.logger.warn(
              `ephemeral key ${JSON.stringify(key)} now belongs to another session: not re-created`,
            );
            return;
          }
          this.logger.error(
            `could not re-create ephemeral key ${JSON.stringify(key)} after session expiry: ${(error as Error).message}`,
          );
        }
      }),
    );
  }

  /**
   * Creates the key again in the new session. If it exists, it is ours only when our session owns
   * it; someone else's key is left alone and forgotten here.
   */
  private async recreate(key: string, bytes: Buffer): Promise<void> {
    try {
      await this.create(key, bytes);
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
      const stat = await this.connection.exists(this.nodePath(key));
      if (stat?.ephemeralOwner !== this.connection.session.id) {
        this.forget(key);
        throw new NodeExistsError({ operation: 'recreate ephemeral', path: this.nodePath(key) });
      }
    }
  }
}
