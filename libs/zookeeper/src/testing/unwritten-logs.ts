import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** A transaction log's file header: magic, version and database id. */
const LOG_HEADER_BYTES = 16;

/**
 * Deletes the transaction logs of `dataDir` too short to hold their header, so the server starts
 * again: a server killed just after it opened a new log leaves one, and ZooKeeper 3.8 then
 * refuses to start (EOFException reading the header). Such a file holds no transaction, so
 * nothing is lost.
 */
export async function dropUnwrittenLogs(dataDir: string): Promise<void> {
  const folder = join(dataDir, 'version-2');
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith('log.')) continue;
    const path = join(folder, name);
    if ((await stat(path)).size < LOG_HEADER_BYTES) await rm(path, { force: true });
  }
}
