import { LoggerService } from '@nestjs/common';
import { DriverFailure } from '../driver/driver-failure.js';
import { DriverSession } from '../driver/driver-session.interface.js';
import { createZookeeperError } from '../errors/create-zookeeper-error.js';
import { ConnectionClosedError } from '../errors/library-errors.js';
import { ZookeeperErrorCode as Code } from '../errors/zookeeper-error-code.enum.js';
import { ZookeeperError } from '../errors/zookeeper.error.js';
import { AuthFailedError, SessionExpiredError } from '../errors/zookeeper-errors.js';
import { sleep } from '../internal/sleep.js';
import { ConnectionState } from './connection-state.enum.js';
import { RetryPolicy } from './retry-policy.js';
import { SessionLifecycle } from './session-lifecycle.js';

/** One try of a request on the current session; `isRetry` after a connection problem. */
export type Attempt<T> = (session: DriverSession, isRetry: boolean) => Promise<T>;

const CLOSING_CODES = new Set<number>([Code.CLOSING, Code.INVALID_STATE]);

/**
 * Runs requests on a connection's current session with its retry policy, and turns driver
 * failures into the typed errors users catch. Only requests that are safe to repeat are retried:
 * a repeated non-idempotent request could apply twice.
 */
export class RequestExecutor {
  constructor(
    private readonly lifecycle: SessionLifecycle,
    private readonly retryPolicy: RetryPolicy,
    private readonly logger: LoggerService,
  ) {}

  async execute<T>(
    operation: string,
    path: string | undefined,
    idempotent: boolean,
    attempt: Attempt<T>,
  ): Promise<T> {
    const started = Date.now();
    for (let retry = 0; ; retry++) {
      let error: ZookeeperError;
      try {
        return await attempt(await this.lifecycle.preparedSession(), retry > 0);
      } catch (failure) {
        error = this.toError(failure, operation, path);
      }
      const delay =
        idempotent && error.isRetryable
          ? this.retryPolicy.delayBeforeRetry(retry, Date.now() - started)
          : undefined;
      if (delay === undefined) throw error;
      this.logger.debug?.(
        `${operation} ${path ?? ''}: ${error.name}, retry ${retry + 1} in ${delay} ms`,
      );
      await sleep(delay);
    }
  }

  private toError(failure: unknown, operation: string, path: string | undefined): ZookeeperError {
    if (failure instanceof ZookeeperError) return failure;
    if (!(failure instanceof DriverFailure)) throw failure;
    if (this.lifecycle.state === ConnectionState.AUTH_FAILED)
      return new AuthFailedError({ operation, path });
    if (CLOSING_CODES.has(failure.rc)) {
      return this.lifecycle.isClosed
        ? new ConnectionClosedError({ operation, path })
        : new SessionExpiredError({ operation, path });
    }
    return createZookeeperError(failure.rc, failure.message, { operation, path });
  }
}
