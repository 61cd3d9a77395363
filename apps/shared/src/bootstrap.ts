import type { INestApplication, Type } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AbstractHttpAdapter, NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { installChaosHooks } from './chaos-hooks.js';
import { validateDemoEnv, type DemoEnv } from './demo-config.js';

/**
 * Starts a demo app and prints `listening on <url>` as a plain line (no logger prefix), which
 * scripts/demo.ts waits for. Any startup failure ends the process with exit code 1.
 * `beforeListen` runs once the app is created, before it listens: the consumer connects and
 * starts its microservice transport there (a hybrid app). `httpAdapter` makes the app's HTTP
 * platform (Nest's default, Express, without it; the producer passes its Fastify adapter).
 *
 * The app module is loaded only after the environment passed validation: ConfigModule.forRoot
 * validates while that module is being declared, and its rejection there would escape Nest as an
 * unhandled rejection with a raw stack instead of one readable line.
 */
export async function bootstrapDemoApp(
  role: string,
  loadModule: () => Promise<Type<unknown>>,
  beforeListen?: (app: INestApplication) => Promise<void>,
  httpAdapter?: () => AbstractHttpAdapter,
): Promise<void> {
  const logger = new Logger(role);
  let app: INestApplication | undefined;
  try {
    validateDemoEnv(process.env);
    // abortOnError: false makes a failed init throw here instead of aborting the process.
    const module = await loadModule();
    const options = { abortOnError: false };
    app = httpAdapter
      ? await NestFactory.create(module, httpAdapter(), options)
      : await NestFactory.create(module, options);
    // SIGTERM/SIGINT close the ZooKeeper session, so this app's ephemeral nodes vanish at once
    // instead of lingering for a whole session timeout.
    app.enableShutdownHooks();
    // Started by a parent with an IPC channel (scripts/demo.ts): leave with the parent, however
    // it ended, instead of lingering as an orphan.
    if (process.connected) {
      process.once('disconnect', () => void app?.close().finally(() => process.exit(0)));
    }
    installChaosHooks(app);
    await beforeListen?.(app);
    const config = app.get<ConfigService<DemoEnv, true>>(ConfigService);
    // Loopback unless HOST says otherwise: the demo apps have no authentication.
    const host = config.get('HOST', { infer: true });
    await app.listen(config.get('PORT', { infer: true }), host);
    const { port: actualPort } = app.getHttpServer().address() as AddressInfo;
    console.log(`listening on http://${host}:${actualPort}`);
  } catch (error) {
    logger.error(`could not start: ${error instanceof Error ? error.message : String(error)}`);
    await app?.close().catch(() => undefined);
    process.exit(1);
  }
}
