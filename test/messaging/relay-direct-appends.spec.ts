// LogRelay.append: a process that relays a queue into a log and also accepts messages appends
// them straight to the log, fenced, without storing them in the queue first.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AppendOutcomeUnknownError,
  BroadcastLog,
  ConnectionState,
  InvalidOptionsError,
  LeaderElection,
  LogRelayEvent,
  MessageTooLargeError,
  NotAppendedError,
  Transaction,
  WorkQueue,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { TcpProxy } from '../driver/wire/tcp-proxy.js';
import {
  nextState,
  silentLogger,
  testConnectString,
  useTestConnections,
} from '../support/connect.js';
import { firstMatch, until } from '../support/until.js';
import { readWholeLog } from './support.js';

const connections = useTestConnections('relay-direct');
const open = { fenced: (tx: Transaction) => tx };
let proxy: TcpProxy;
beforeAll(async () => {
  const [host, port] = testConnectString().split(',')[0].split('/')[0].split(':');
  proxy = await TcpProxy.start(host, Number(port));
});
afterAll(() => proxy?.close());

type Sent = { via: string; n: number };

/** Every message of the log, in log order. */
const logMessages = (topic: string) => readWholeLog<Sent>(connections.zk, topic);

/** The relay of `root`/inbox into `root`/log on `zk`, with the events it reported. */
async function relayOf(zk: ZookeeperConnection, root: string, fence = open) {
  const inbox = new WorkQueue<Sent>(zk, `${root}/inbox`);
  const log = new BroadcastLog<Sent>(zk, `${root}/log`, { maxBatchBytes: 4096 });
  const relay = await log.relay(inbox, { fence });
  const events: LogRelayEvent[] = [];
  relay.events$.subscribe((event) => events.push(event));
  const close = async () => {
    await relay.stop();
    await Promise.all([inbox.close(), log.close()]);
  };
  return { inbox, log, relay, events, close };
}

describe('LogRelay.append: messages straight into the log, fenced', () => {
  it('goes after the batches this process published before it and after earlier appends: each message once, in call order, nothing stored in the queue', async () => {
    const zk = await connections.open();
    if (!zk.capabilities.multi) return;
    const root = '/relay-direct/order';
    const { inbox, relay, events, close } = await relayOf(zk, root);
    const sent: Sent[] = [];
    for (let round = 0; round < 20; round++) {
      // Three published (awaited), then five appended at once, then two appended one by one.
      const published = [0, 1, 2].map((i) => ({ via: 'queue', n: round * 10 + i }));
      sent.push(...published);
      await Promise.all(published.map((message) => inbox.publish(message)));
      const together = [3, 4, 5, 6, 7].map((i) => ({ via: 'append', n: round * 10 + i }));
      sent.push(...together);
      await Promise.all(together.map((message) => relay.append(message)));
      for (const i of [8, 9]) {
        const message = { via: 'append', n: round * 10 + i };
        sent.push(message);
        await relay.append(message);
      }
    }
    expect(relay.relayed).toBe(200);
    expect(await logMessages(`${root}/log`)).toEqual(sent);
    expect(await inbox.pendingItems()).toBe(0);
    const failures = events.filter((event) => event.type !== 'relayed');
    expect(failures).toEqual([]);
    // Whole appends become whole batches: no more steps than appends awaited separately.
    const direct = events.filter((event) => event.type === 'relayed' && event.items === 0);
    expect(direct.length).toBeGreaterThanOrEqual(60);
    expect(direct.length).toBeLessThanOrEqual(100);
    await close();
  }, 60_000);

  it('goes after batches this process published before the relay started (it never saw them written)', async () => {
    const zk = await connections.open();
    if (!zk.capabilities.multi) return;
    const root = '/relay-direct/before-start';
    const inbox = new WorkQueue<Sent>(zk, `${root}/inbox`);
    await inbox.publish({ via: 'queue', n: 0 });
    const log = new BroadcastLog<Sent>(zk, `${root}/log`);
    const relay = await log.relay(inbox, { fence: open });
    await relay.append({ via: 'append', n: 1 });
    await until(() => relay.relayed === 2, { message: () => `relayed ${relay.relayed}` });
    expect(await logMessages(`${root}/log`)).toEqual([
      { via: 'queue', n: 0 },
      { via: 'append', n: 1 },
    ]);
    await relay.stop();
    await Promise.all([inbox.close(), log.close()]);
  }, 60_000);

  it('a queue batch whose step keeps failing: the appends waiting behind it are refused (NotAppendedError), not held', async () => {
    const zk = await connections.open();
    if (!zk.capabilities.multi) return;
    const root = '/relay-direct/source-failing';
    const gate = `${root}/gate`;
    await zk.mkdirp(gate);
    // A fence that refuses every step while the gate is at version 0 (the test's deposed leader).
    const fence = {
      fenced: (tx: Transaction) => tx.check(gate, 1),
      isDeposed: () => true,
    };
    const { inbox, relay, close } = await relayOf(zk, root, fence);
    await inbox.publish({ via: 'queue', n: 0 });
    const refused = await relay.append({ via: 'append', n: 1 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NotAppendedError);
    expect((refused as NotAppendedError).reason).toBe('deposed');
    expect(relay.relayed).toBe(0);
    await close();
  }, 60_000);

  it('a lost reply whose log batches retention may have removed meanwhile: AppendOutcomeUnknownError, not a false "not appended"', async () => {
    const zk = await connections.open({
      connectString: proxy.connectString,
      sessionTimeoutMs: 10_000,
    });
    if (!zk.capabilities.multi) return;
    const root = '/relay-direct/lost-retained';
    const { relay, close } = await relayOf(zk, root);
    await relay.append({ via: 'append', n: 0 });
    proxy.repliesDropped = true;
    const appending = relay.append({ via: 'append', n: 1 }).catch((error: unknown) => error);
    const folder = `${root}/log/log`; // segment 0 of the topic's batches
    await until(async () => (await connections.zk.getChildren(folder)).length === 2, {
      message: 'the step applied',
    });
    // Every subscriber read both batches and retention deleted them, before the relay looks.
    for (const name of await connections.zk.getChildren(folder)) {
      await connections.zk.delete(`${folder}/${name}`);
    }
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy.block();
    await suspended;
    proxy.repliesDropped = false;
    proxy.unblock();
    expect(await appending).toBeInstanceOf(AppendOutcomeUnknownError);
    await close();
  }, 60_000);

  it('many appends at once share log batches within the byte limit', async () => {
    const zk = await connections.open();
    if (!zk.capabilities.multi) return;
    const root = '/relay-direct/batched';
    const { relay, events, close } = await relayOf(zk, root);
    const sent = Array.from({ length: 300 }, (_, n) => ({ via: 'append', n }));
    await Promise.all(sent.map((message) => relay.append(message)));
    const steps = events.filter((event) => event.type === 'relayed');
    // ~30 bytes each under a 4 KiB batch limit: far fewer steps than messages, more than one.
    expect(steps.length).toBeGreaterThan(1);
    expect(steps.length).toBeLessThan(30);
    expect(await logMessages(`${root}/log`)).toEqual(sent);
    await close();
  }, 60_000);

  it('lingerMs: after a quiet spell a step goes at once; under load what comes within the interval shares one step', async () => {
    const zk = await connections.open();
    if (!zk.capabilities.multi) return;
    const root = '/relay-direct/linger';
    await expect(
      new BroadcastLog(zk, `${root}/log`).relay(new WorkQueue(zk, `${root}/inbox`), {
        fence: open,
        lingerMs: -1,
      }),
    ).rejects.toBeInstanceOf(InvalidOptionsError);
    const inbox = new WorkQueue<Sent>(zk, `${root}/inbox`);
    const log = new BroadcastLog<Sent>(zk, `${root}/log`);
    const relay = await log.relay(inbox, { fence: open, lingerMs: 1000 });
    const steps: number[] = [];
    relay.events$.subscribe((event) => event.type === 'relayed' && steps.push(event.messages));
    const sent = Array.from({ length: 20 }, (_, n) => ({ via: 'append', n }));
    // One every 10 ms: without the linger each would be a step of its own (a step takes ~2 ms).
    const appends: Array<Promise<void>> = [];
    for (const message of sent) {
      appends.push(relay.append(message));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(appends);
    expect(steps[0]).toBe(1);
    expect(steps.length).toBeLessThanOrEqual(3);
    expect(await logMessages(`${root}/log`)).toEqual(sent);
    await relay.stop();
    await Promise.all([inbox.close(), log.close()]);
  }, 60_000);

  it('a deposed leader: refused with NotAppendedError (deposed), nothing in the log', async () => {
    const zk = await connections.open({ sessionTimeoutMs: 4000 });
    if (!zk.capabilities.multi) return;
    const root = '/relay-direct/deposed';
    const election = new LeaderElection(zk, `${root}/master`, {
      participantId: 'a',
      logger: silentLogger,
    });
    await election.start();
    await firstMatch(election.isLeader$, Boolean, { message: 'leadership' });
    const { relay, events, close } = await relayOf(zk, root, election);
    await relay.append({ via: 'append', n: 0 });
    await expireSession(zk);
    const refused = await relay.append({ via: 'append', n: 1 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NotAppendedError);
    expect((refused as NotAppendedError).reason).toBe('deposed');
    expect(events.some((event) => event.type === 'deposed')).toBe(true);
    expect(await logMessages(`${root}/log`)).toEqual([{ via: 'append', n: 0 }]);
    await close();
    await election.close();
  }, 60_000);

  it('a step whose reply was lost after it applied: found in the log, resolves, appended once', async () => {
    const zk = await connections.open({
      connectString: proxy.connectString,
      sessionTimeoutMs: 10_000,
    });
    if (!zk.capabilities.multi) return;
    const root = '/relay-direct/lost-applied';
    const { relay, close } = await relayOf(zk, root);
    await relay.append({ via: 'append', n: 0 });
    proxy.repliesDropped = true;
    let settled = false;
    const appending = relay.append({ via: 'append', n: 1 }).finally(() => (settled = true));
    const stats = new BroadcastLog(connections.zk, `${root}/log`);
    await until(async () => (await stats.stats()).messages === 2, { message: 'the step applied' });
    await stats.close();
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy.block();
    await suspended;
    expect(settled).toBe(false);
    proxy.repliesDropped = false;
    proxy.unblock();
    await appending;
    expect(relay.relayed).toBe(2);
    expect(await logMessages(`${root}/log`)).toEqual([
      { via: 'append', n: 0 },
      { via: 'append', n: 1 },
    ]);
    await close();
  }, 60_000);

  it('a step lost before it reached the server: not found, refused with NotAppendedError (failed), nothing in the log', async () => {
    const zk = await connections.open({
      connectString: proxy.connectString,
      sessionTimeoutMs: 10_000,
    });
    if (!zk.capabilities.multi) return;
    const root = '/relay-direct/lost-unapplied';
    const { relay, close } = await relayOf(zk, root);
    await relay.append({ via: 'append', n: 0 });
    // Requests sent now never reach the server; then the link drops.
    proxy.frozen = true;
    const appending = relay.append({ via: 'append', n: 1 }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy.frozen = false;
    proxy.block();
    await suspended;
    proxy.unblock();
    const refused = await appending;
    expect(refused).toBeInstanceOf(NotAppendedError);
    expect((refused as NotAppendedError).reason).toBe('failed');
    expect(await logMessages(`${root}/log`)).toEqual([{ via: 'append', n: 0 }]);
    await close();
  }, 60_000);

  it('stopped with appends waiting, or appended to after it stopped: NotAppendedError (stopped); too large: MessageTooLargeError at once', async () => {
    const zk = await connections.open({
      connectString: proxy.connectString,
      sessionTimeoutMs: 10_000,
    });
    if (!zk.capabilities.multi) return;
    const root = '/relay-direct/stopped';
    const { relay, close } = await relayOf(zk, root);
    await expect(relay.append({ via: 'x'.repeat(5000), n: 0 })).rejects.toBeInstanceOf(
      MessageTooLargeError,
    );
    await relay.append({ via: 'append', n: 0 });
    // The next append's step is in flight (its request never reaches the server) when the
    // second comes: that one waits for the next pass, and the relay stops first.
    proxy.frozen = true;
    const inFlight = relay.append({ via: 'append', n: 1 }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const waiting = relay.append({ via: 'append', n: 2 }).catch((error: unknown) => error);
    const stopping = relay.stop();
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy.frozen = false;
    proxy.block();
    await suspended;
    proxy.unblock();
    await stopping;
    // Never written: refused ('stopped', or 'failed' with the step before it, so it cannot
    // overtake that one on its way to the queue).
    expect(await waiting).toBeInstanceOf(NotAppendedError);
    // The step in flight lost its reply as the relay stopped: looked up if the link is back in
    // time (not there: not appended), else reported unknown; never a silent success or a hang.
    const first = await inFlight;
    expect(first instanceof NotAppendedError || first instanceof AppendOutcomeUnknownError).toBe(
      true,
    );
    expect(await logMessages(`${root}/log`)).toEqual([{ via: 'append', n: 0 }]);
    const after = await relay.append({ via: 'append', n: 3 }).catch((error: unknown) => error);
    expect(after).toBeInstanceOf(NotAppendedError);
    expect((after as NotAppendedError).reason).toBe('stopped');
    await close();
  }, 60_000);
});
