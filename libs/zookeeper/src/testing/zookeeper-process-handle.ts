import { JavaProcess } from './java-process.js';

/** Process controls shared by a standalone testing server and each node of a testing cluster. */
export abstract class ZookeeperProcessHandle {
  protected jvm: JavaProcess | undefined;

  /** Pid of the JVM while it runs. */
  get pid(): number | undefined {
    return this.jvm?.running ? this.jvm.pid : undefined;
  }

  get running(): boolean {
    return this.jvm?.running ?? false;
  }

  /** Graceful stop (SIGTERM, SIGKILL after `timeoutMs`); resolves once the JVM is gone. */
  async stop(timeoutMs = 10_000): Promise<void> {
    await this.jvm?.stop(timeoutMs);
  }

  /** SIGKILL; resolves once the JVM is gone, so its port refuses connections. */
  async kill(): Promise<void> {
    await this.jvm?.kill();
  }

  /** SIGSTOP: the process keeps its port but answers nothing, like a long GC pause. */
  pause(): void {
    this.jvm?.pause();
  }

  /** SIGCONT after `pause()`. */
  resume(): void {
    this.jvm?.resume();
  }
}
