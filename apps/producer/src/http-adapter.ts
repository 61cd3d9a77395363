import { FastifyAdapter } from '@nestjs/platform-fastify';

/**
 * The producer's HTTP platform: Fastify. Every accepted message is one POST, and on the same
 * Nest controller, ValidationPipe and 202 body, Express (its router, body-parser, ETag) cost
 * ~270 µs of CPU per request where Fastify costs ~80 µs (measured with 64 keep-alive clients on
 * the 2-core machine; `npm run bench -- --only flow` shows the producer's share per message).
 *
 * As on Express: JSON and URL-encoded form bodies up to 100 KiB (Express's default limit), and a
 * path with a final '/' reaches the same route (`/dashboard/`). The library's dashboard
 * (`nestjs-zookeeper/dashboard`) serves on it as on Express.
 */
export function producerHttpAdapter(): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: 100 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
  });
}
