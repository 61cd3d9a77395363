import { LoggerService } from '@nestjs/common';
import { ZookeeperConnection } from 'nestjs-zookeeper';

/** Writes each `path → data` (creating parents), replacing existing data. */
export async function writeNodes(
  zk: ZookeeperConnection,
  nodes: Record<string, string>,
): Promise<void> {
  for (const [path, data] of Object.entries(nodes)) {
    if (await zk.exists(path)) await zk.set(path, data);
    else {
      await zk.mkdirp(path.slice(0, path.lastIndexOf('/')) || '/');
      await zk.create(path, data);
    }
  }
}

/** A logger that keeps the warnings (refusals, fallbacks) for assertions. */
export function recordingLogger(): {
  warnings: string[];
  logger: LoggerService;
} {
  const warnings: string[] = [];
  return {
    warnings,
    logger: {
      log: () => undefined,
      warn: (message) => warnings.push(String(message)),
      error: (message) => warnings.push(String(message)),
      debug: () => undefined,
      verbose: () => undefined,
    },
  };
}
