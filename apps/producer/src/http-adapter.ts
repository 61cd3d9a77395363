import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';

/**
 * The producer's HTTP platform: Fastify. Every accepted message is one POST, and on the same
 * Nest controller, ValidationPipe and 202 body, Express (its router, body-parser, ETag) cost
 * ~270 µs of CPU per request where Fastify costs ~80 µs (measured with 64 keep-alive clients on
 * the 2-core machine; `npm run bench -- --only flow` shows the producer's share per message).
 *
 * As on Express: JSON and URL-encoded form bodies up to 100 KiB (Express's default limit), and a
 * path with a final '/' reaches the same route (`/dashboard/`).
 *
 * The library's dashboard (`nestjs-zookeeper/dashboard`) writes its page and files through
 * `@Res()` with the Node response methods `setHeader` and `end`; on Fastify `@Res()` is the
 * FastifyReply, so replies get those two methods here, mapped onto Fastify's own `header` and
 * `send` (the reply goes out through Fastify's lifecycle, hooks and all).
 */
export function producerHttpAdapter(): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: 100 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
  });
  const fastify = adapter.getInstance();
  fastify.decorateReply('setHeader', function (this: FastifyReply, name: string, value: string) {
    return this.header(name, value);
  });
  fastify.decorateReply('end', function (this: FastifyReply, body?: Buffer | string) {
    return this.send(body);
  });
  return adapter;
}
