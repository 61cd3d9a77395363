import { createServer } from 'node:net';
import { ZookeeperTestingError } from '../errors/library-errors.js';

/**
 * Ports are drawn below Linux's default ephemeral range (32768-60999): a port the kernel
 * handed out for `listen(0)` is just as likely to be picked moments later as the source
 * port of an outgoing connection, which would make the JVM's bind fail.
 */
const RANGE_START = 20_000;
const RANGE_END = 32_000;

// Parallel callers in the same process (a cluster starting three nodes) must never get the
// same port even though nothing is bound to it yet.
const handedOut = new Set<number>();

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/** A loopback port that nothing listens on right now and that this process has not handed out before. */
export async function getFreePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = RANGE_START + Math.floor(Math.random() * (RANGE_END - RANGE_START));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await isPortFree(port, host)) return port;
  }
  throw new ZookeeperTestingError(
    `No free TCP port found on ${host} between ${RANGE_START} and ${RANGE_END}`,
  );
}

/** `count` distinct free loopback ports. */
export async function getFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await getFreePort(host));
  return ports;
}
