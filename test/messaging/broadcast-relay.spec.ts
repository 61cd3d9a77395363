import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  BroadcastLog,
  CapabilityMissingError,
  CreateMode,
  LeaderElection,
  LogRelayEvent,
  WorkQueue,
  ZookeeperConnection,
} from 'nestjs-zookeeper';
import { expireSession } from 'nestjs-zookeeper/testing';
import { testConnectString, useTestConnections } from '../support/connect.js';
import { firstMatch, until } from '../support/until.js';
import { encodeBatch } from '../../libs/zookeeper/src/messaging/shared/message-batch.js';
import { FixtureProcess } from './support.js';

const connections = useTestConnections('broadcast-relay');
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };
afterAll(() => FixtureProcess.stopAll());

type Sent = { producer: string; n: number };

/** Every message of the log as stored, batch by batch (no subscriber involved). */
async function logContents(zk: ZookeeperConnection, topic: string) {
  const log = new BroadcastLog<Sent>(zk, topic);
  const stats = await log.stats();
  const messages: Sent[] = [];
  if (stats.messages > 0) {
    const subscriber = log.deliveries('reader', { from: 'earliest', autoAck: true });
    await new Promise<void>((resolve, reject) => {
      const sub = subscriber.subscribe({
        next: ({ message }) => {
          messages.push(message);
          if (messages.length === stats.messages) {
            sub.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
    });
  }
  await log.removeSubscriber('reader');
  await log.close();
  return { entries: stats.entries, messages };
}

/** Each message exactly once, and each producer's messages in order. */
function expectExactlyOnceInOrder(messages: readonly Sent[], expected: Record<string, number>) {
  for (const [producer, count] of Object.entries(expected)) {
    const ns = messages.filter((m) => m.producer === producer).map((m) => m.n);
    expect(ns).toEqual(Array.from({ length: count }, (_, i) => i));
  }
  expect(messages).toHaveLength(Object.values(expected).reduce((a, b) => a + b, 0));
}

async function leader(path: string, participantId: string) {
  const zk = await connections.open({ sessionTimeoutMs: 4000 });
  const election = new LeaderElection(zk, path, { participantId, logger: quiet });
  await election.start();
  return { zk, election };
}

const leads = (election: LeaderElection) =>
  firstMatch(election.isLeader$, Boolean, { message: 'leadership', timeoutMs: 20_000 });

describe('BroadcastLog.relay: a work queue into a log, exactly once and fenced', () => {
  it('on a driver without multi, relay() refuses with CapabilityMissingError', async () => {
    const { zk, election } = await leader('/relay/native/master', 'n');
    if (zk.capabilities.multi) return;
    const log = new BroadcastLog(zk, '/relay/native/log');
    await expect(
      log.relay(new WorkQueue(zk, '/relay/native/inbox'), { fence: election }),
    ).rejects.toBeInstanceOf(CapabilityMissingError);
  });

  it('whole queue batches into whole log batches, each message once, in order per producer', async () => {
    const { zk, election } = await leader('/relay/basic/master', 'm');
    if (!zk.capabilities.multi) return;
    const p1 = new WorkQueue<Sent>(await connections.open(), '/relay/basic/inbox');
    const p2 = new WorkQueue<Sent>(await connections.open(), '/relay/basic/inbox');
    await leads(election);
    const log = new BroadcastLog<Sent>(zk, '/relay/basic/log');
    const relay = await log.relay(new WorkQueue(zk, '/relay/basic/inbox'), { fence: election });
    const steps: LogRelayEvent[] = [];
    relay.events$.subscribe((event) => steps.push(event));
    const publish = (queue: WorkQueue<Sent>, producer: string) =>
      Promise.all(Array.from({ length: 1000 }, (_, n) => queue.publish({ producer, n })));
    await Promise.all([publish(p1, 'p1'), publish(p2, 'p2')]);
    await until(() => relay.relayed === 2000, { message: () => `relayed ${relay.relayed}` });
    await relay.stop();
    const { entries, messages } = await logContents(connections.zk, '/relay/basic/log');
    expectExactlyOnceInOrder(messages, { p1: 1000, p2: 1000 });
    expect(steps.filter((step) => step.type !== 'relayed')).toEqual([]);
    // Whole batches: far fewer log entries than messages, and no more than queue batches.
    const relayed = steps.filter((step) => step.type === 'relayed');
    expect(entries).toBe(relayed.length);
    expect(relayed.reduce((sum, step) => sum + step.items, 0)).toBeLessThan(2000 / 4);
    expect(await p1.pendingItems()).toBe(0);
    console.log(
      `[broadcast-relay] 2000 messages: ${relayed.reduce((s, e) => s + e.items, 0)} queue batches -> ${entries} log batches`,
    );
    await log.close();
  }, 60_000);

  it("a publisher's retried batch (same protected name, its first copy already relayed) is dropped, not appended again", async () => {
    const { zk, election } = await leader('/relay/retried/master', 'm');
    if (!zk.capabilities.multi) return;
    await leads(election);
    const inbox = new WorkQueue<Sent>(zk, '/relay/retried/inbox');
    await inbox.pendingItems(); // the folders exist
    const log = new BroadcastLog<Sent>(zk, '/relay/retried/log');
    const relay = await log.relay(new WorkQueue(zk, '/relay/retried/inbox'), { fence: election });
    const events: LogRelayEvent[] = [];
    relay.events$.subscribe((event) => events.push(event));
    // What a publisher's protected create leaves, then (after a lost reply, once the first copy
    // was relayed and deleted) its retry under the same `_c_<uuid>-` name.
    const batch = encodeBatch([Buffer.from(JSON.stringify({ producer: 'p', n: 0 }))]);
    const name = `/relay/retried/inbox/items/_c_${randomUUID()}-m1-`;
    // The name is the protected form already: not wrapped in another one.
    const asPublished = { mode: CreateMode.PERSISTENT_SEQUENTIAL, protected: false };
    await connections.zk.create(name, batch, asPublished);
    await until(() => relay.relayed === 1, { message: 'the first copy relayed' });
    await connections.zk.create(name, batch, asPublished);
    await inbox.publish({ producer: 'p', n: 1 });
    await until(() => relay.relayed === 2, {
      message: () => `relayed ${relay.relayed} ${JSON.stringify(events)}`,
    });
    expect(events.filter((event) => event.type === 'duplicate-dropped')).toHaveLength(1);
    expect(await inbox.pendingItems()).toBe(0);
    await relay.stop();
    const { messages } = await logContents(connections.zk, '/relay/retried/log');
    expectExactlyOnceInOrder(messages, { p: 2 });
    await log.close();
  });

  it('a master whose session expired appends nothing; its successor relays the rest once', async () => {
    const a = await leader('/relay/expiry/master', 'a');
    if (!a.zk.capabilities.multi) return;
    const b = await leader('/relay/expiry/master', 'b');
    const producer = new WorkQueue<Sent>(await connections.open(), '/relay/expiry/inbox');
    await leads(a.election);
    const logA = new BroadcastLog<Sent>(a.zk, '/relay/expiry/log');
    const relayA = await logA.relay(new WorkQueue(a.zk, '/relay/expiry/inbox'), {
      fence: a.election,
    });
    const eventsA: LogRelayEvent[] = [];
    relayA.events$.subscribe((event) => eventsA.push(event));
    await Promise.all(
      Array.from({ length: 200 }, (_, n) => producer.publish({ producer: 'p', n })),
    );
    await until(() => relayA.relayed === 200, { message: 'a relays the first 200' });
    // A is deposed, but its relay keeps running (as in a process that has not noticed yet).
    await expireSession(a.zk);
    await leads(b.election);
    const relayedBefore = relayA.relayed;
    await Promise.all(
      Array.from({ length: 300 }, (_, n) => producer.publish({ producer: 'p', n: 200 + n })),
    );
    // With a backlog, a's relay tries, and its fence refuses it before the server is asked.
    await until(() => eventsA.some((event) => event.type === 'deposed'), {
      message: 'a is refused',
    });
    const logB = new BroadcastLog<Sent>(b.zk, '/relay/expiry/log');
    const relayB = await logB.relay(new WorkQueue(b.zk, '/relay/expiry/inbox'), {
      fence: b.election,
    });
    await until(() => relayB.relayed === 300, { message: () => `b relayed ${relayB.relayed}` });
    expect(relayA.relayed - relayedBefore).toBe(0);
    await Promise.all([relayA.stop(), relayB.stop()]);
    const { messages } = await logContents(connections.zk, '/relay/expiry/log');
    expectExactlyOnceInOrder(messages, { p: 500 });
    await Promise.all([logA.close(), logB.close()]);
  }, 90_000);

  it('the relaying master SIGKILLed mid-stream: every message in the log exactly once, in order', async () => {
    if (!connections.zk.capabilities.multi) return;
    const base = '/relay/kill';
    const start = (id: string) =>
      new FixtureProcess('test/messaging/fixtures/relay-master.ts', [
        testConnectString(),
        connections.namespace,
        `${base}/master`,
        `${base}/inbox`,
        `${base}/log`,
        id,
      ]);
    const m1 = start('m1');
    await m1.until((lines) => lines.includes('lead'), 'm1 leads', 90_000);
    const m2 = start('m2');
    await m2.until((lines) => lines.includes('candidate'), 'm2 is a candidate', 90_000);
    const producers = await Promise.all(
      ['p1', 'p2', 'p3'].map(async (name) => ({
        name,
        queue: new WorkQueue<Sent>(await connections.open(), `${base}/inbox`),
      })),
    );
    const PER_PRODUCER = 1500;
    const relayedBy = (p: FixtureProcess) =>
      p.lines
        .filter((l) => l.startsWith('relayed '))
        .reduce((s, l) => s + Number(l.split(' ')[1]), 0);
    const sending = Promise.all(
      producers.map(async ({ name, queue }) => {
        for (let n = 0; n < PER_PRODUCER; n += 10) {
          await Promise.all(
            Array.from({ length: 10 }, (_, i) => queue.publish({ producer: name, n: n + i })),
          );
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }),
    );
    await m1.until(() => relayedBy(m1) >= 1000, 'm1 relays 1000', 60_000);
    m1.kill('SIGKILL');
    await sending;
    const total = 3 * PER_PRODUCER;
    const stats = new BroadcastLog(connections.zk, `${base}/log`);
    await until(async () => (await stats.stats()).messages >= total, {
      message: 'the log to hold every message',
      timeoutMs: 60_000,
    });
    await stats.close();
    const { messages } = await logContents(connections.zk, `${base}/log`);
    console.log(
      `[broadcast-relay] SIGKILL: m1 relayed ${relayedBy(m1)} (confirmed), m2 ${relayedBy(m2)}; log holds ${messages.length} of ${total}`,
    );
    expectExactlyOnceInOrder(messages, { p1: PER_PRODUCER, p2: PER_PRODUCER, p3: PER_PRODUCER });
    expect(m2.lines.filter((l) => l.startsWith('event '))).toEqual([]);
  }, 180_000);
});
