import { connect } from 'node:net';

export interface ServerReport {
  server: string;
  mode?: string;
  zxid?: string;
  error?: string;
}

/** Sends `srvr` to one server and returns its reply (the server closes the socket after it). */
function srvr(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no reply within ${timeoutMs} ms`)),
    );
    socket.on('connect', () => socket.write('srvr'));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** Asks every server of a connect string for its mode (leader, follower, standalone). */
export async function askServers(connectString: string, timeoutMs = 1000): Promise<ServerReport[]> {
  const servers = connectString
    .split('/')[0]
    .split(',')
    .map((server) => server.trim())
    .filter(Boolean);
  return Promise.all(
    servers.map(async (server) => {
      const at = server.lastIndexOf(':');
      const host = (at > 0 ? server.slice(0, at) : server).replace(/^\[|\]$/g, '');
      const port = at > 0 ? Number(server.slice(at + 1)) : 2181;
      try {
        const reply = await srvr(host, port, timeoutMs);
        const mode = /^Mode: (.+)$/m.exec(reply)?.[1]?.trim();
        const zxid = /^Zxid: (.+)$/m.exec(reply)?.[1]?.trim();
        if (!mode) return { server, error: reply.trim().slice(0, 200) || 'empty reply' };
        return { server, mode, zxid };
      } catch (error) {
        return { server, error: (error as Error).message };
      }
    }),
  );
}
