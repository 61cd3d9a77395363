// The part of node-zookeeper-client (no typings of its own) that the bench uses.
declare module 'node-zookeeper-client' {
  import { EventEmitter } from 'node:events';

  namespace nzk {
    interface Stat {
      version: number;
    }
    interface Event {
      getType(): number;
      getPath(): string;
    }
    type Watcher = (event: Event) => void;

    interface Client extends EventEmitter {
      connect(): void;
      close(): void;
      create(
        path: string,
        data: Buffer | null,
        mode: number,
        callback: (error: Error | null, path: string) => void,
      ): void;
      remove(path: string, version: number, callback: (error: Error | null) => void): void;
      getData(
        path: string,
        watcher: Watcher | undefined,
        callback: (error: Error | null, data: Buffer, stat: Stat) => void,
      ): void;
      setData(
        path: string,
        data: Buffer,
        version: number,
        callback: (error: Error | null, stat: Stat) => void,
      ): void;
    }

    function createClient(
      connectionString: string,
      options?: { sessionTimeout?: number; spinDelay?: number; retries?: number },
    ): Client;

    const CreateMode: {
      PERSISTENT: number;
      PERSISTENT_SEQUENTIAL: number;
      EPHEMERAL: number;
      EPHEMERAL_SEQUENTIAL: number;
    };
  }
  export = nzk;
}
