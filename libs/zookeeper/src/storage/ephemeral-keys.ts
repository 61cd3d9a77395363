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
  private readonly subscription?: Subscription;

  constructor(
    connection: ZookeeperConnection,
    private readonly recreate: (key: string, bytes: Buffer) => Promise<unknown>,
    private readonly logger: LoggerService,
    enabled: boolean,
  ) {
    if (!enabled) return;
    this.subscription = connection.state$.pipe(pairwise()).subscribe(([previous, current]) => {
      if (current === ConnectionState.CONNECTED && previous === ConnectionState.EXPIRED)
        void this.recreateAll();
    });
  }

  remember(key: string, bytes: Buffer): void {
    this.keys.set(key, bytes);
  }

  forget(key: string): void {
    this.keys.delete(key);
  }

  close(): void {
    this.subscription?.unsubscribe();
    this.keys.clear();
  }

  private async recreateAll(): Promise<void> {
    await Promise.all(
      [...this.keys].map(async ([key, bytes]) => {
        try {
          await this.recreate(key, bytes);
        } catch (error) {
          if (error instanceof NodeExistsError) return;
          this.logger.error(
            `could not re-create ephemeral key ${JSON.stringify(key)} after session expiry: ${(error as Error).message}`,
          );
        }
      }),
    );
  }
}
