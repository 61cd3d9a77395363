import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BadVersionError, LeaderElection, Mutex, ServiceRegistry } from 'nestjs-zookeeper';
import { testConnectString, useTestConnections } from '../../support/connect.js';
import { LineProcess } from '../../support/line-process.js';
import { until } from '../../support/until.js';
import {
  CuratorInstallation,
  CuratorInstallationError,
  locateCurator,
} from './curator-installation.js';
import { compileCuratorPeer, startCuratorPeer } from './curator-peer.js';

// Installs Curator when it can (root on Debian); skips only when it cannot be had at all.
const curator: CuratorInstallation | undefined = await locateCurator({
  installIfMissing: true,
  log: (line) => console.log(`[curator] ${line}`),
}).catch((error: unknown) => {
  if (!(error instanceof CuratorInstallationError)) throw error;
  console.warn(`[curator] Curator interop tests SKIPPED: ${error.message}`);
  return undefined;
});
const describeWithCurator = curator ? describe : describe.skip;

const connections = useTestConnections('curator');
const peers: LineProcess[] = [];
const quiet = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };
let classes: string;

beforeAll(() => {
  if (curator) classes = compileCuratorPeer(curator);
});
afterAll(() => Promise.all(peers.map((peer) => peer.stop())));

function peer(label: string, args: string[]): LineProcess {
  const started = startCuratorPeer(curator!, classes, label, args);
  peers.push(started);
  return started;
}

/** Java prints "<event> <epoch ms> ...": the time it took the step, not when we read the line. */
const stampOf = (words: string[]) => Number(words[1]);

interface Hold {
  who: 'curator' | 'nest';
  from: number;
  to: number;
}

describeWithCurator(`Curator ${curator?.curatorVersion ?? ''} interop`, () => {
  it('a Curator InterProcessMutex and a Nest Mutex on one path exclude each other', async () => {
    const { zk } = connections;
    const rounds = 15;
    const holdMs = 5;
    await zk.create('/counter', '0');
    const java = peer('curator-mutex', [
      'mutex',
      testConnectString(),
      `${connections.namespace}/locks/shared`,
      String(rounds),
      String(holdMs),
      `${connections.namespace}/counter`,
    ]);
    await java.waitForWord('ready', 30_000);

    const mutex = new Mutex(await connections.open(), '/locks/shared');
    const holds: Hold[] = [];
    let nestConflicts = 0;
    const nest = async () => {
      for (let round = 0; round < rounds; round++) {
        await mutex.acquire();
        const from = Date.now();
        const { data, stat } = await zk.get('/counter');
        await delay(holdMs); // the read-modify-write takes a while, as the Java side's does
        await zk
          .set('/counter', String(Number(data.toString()) + 1), { version: stat.version })
          .catch((error) => {
            if (!(error instanceof BadVersionError)) throw error;
            nestConflicts++;
          });
        holds.push({ who: 'nest', from, to: Date.now() });
        await mutex.release();
      }
    };
    java.send('go');
    await Promise.all([nest(), java.waitForWord('done', 60_000)]);

    let acquiredAt: number | undefined;
    for (const { words } of java.lines) {
      if (words[0] === 'acquired') acquiredAt = stampOf(words);
      if (words[0] === 'releasing')
        holds.push({ who: 'curator', from: acquiredAt!, to: stampOf(words) });
    }
    expect(java.lines.filter((line) => line.words[0] === 'conflict')).toEqual([]);
    expect(nestConflicts).toBe(0);
    expect(Number((await zk.get('/counter')).data.toString())).toBe(2 * rounds);
    holds.sort((a, b) => a.from - b.from);
    expect(holds).toHaveLength(2 * rounds);
    const overlapping = holds.filter((hold, index) => index > 0 && hold.from < holds[index - 1].to);
    expect(overlapping).toEqual([]);
    // They really contended: the lock changed hands between the two sides several times.
    const handovers = holds.filter((hold, index) => index > 0 && hold.who !== holds[index - 1].who);
    expect(handovers.length).toBeGreaterThanOrEqual(4);
    expect(await zk.getChildren('/locks/shared')).toEqual([]);
  }, 60_000);

  it('Curator LeaderLatch and Nest candidates: one leader at a time, leader$ names the Java leader, leadership passes on close', async () => {
    const timeline: Array<{ who: string; leads: boolean; at: number }> = [];
    const nestCandidate = async (participantId: string) => {
      const election = new LeaderElection(await connections.open(), '/election', {
        participantId,
        logger: quiet,
      });
      election.isLeader$.subscribe((leads) =>
        timeline.push({ who: participantId, leads, at: Date.now() }),
      );
      await election.start();
      return election;
    };
    const leaderId = (election: LeaderElection, id: string) =>
      new Promise<void>((resolve) => {
        const subscription = election.leader$.subscribe((leader) => {
          if (leader?.id !== id) return;
          queueMicrotask(() => subscription.unsubscribe());
          resolve();
        });
      });

    const first = await nestCandidate('nest-a');
    expect(first.isLeader).toBe(true);
    const java = peer('curator-latch', [
      'latch',
      testConnectString(),
      `${connections.namespace}/election`,
      'java-1',
    ]);
    await java.waitForWord('node', 30_000);
    const second = await nestCandidate('nest-b');
    expect(second.isLeader).toBe(false);

    // Curator sees our node as the leader, and our node order matches its own.
    java.send('who');
    expect((await java.waitForWord('leader-id')).words[2]).toBe('nest-a');
    expect((await second.participants()).map((p) => p.id)).toEqual(['nest-a', 'java-1', 'nest-b']);

    await first.close();
    const javaLeads = await java.waitForWord('leader', 15_000);
    await leaderId(second, 'java-1');
    expect(second.isLeader).toBe(false);

    java.send('close');
    const javaClosing = await java.waitForWord('closing');
    await java.waitForWord('closed');
    await leaderId(second, 'nest-b');
    // leader$ is a view of the node order; the candidate itself leads once it has read its own
    // node's facts (the fencing token), one round trip later.
    await until(() => second.isLeader, { message: 'nest-b to lead', timeoutMs: 10_000 });
    expect(second.isLeader).toBe(true);
    await second.close();

    timeline.push({ who: 'java-1', leads: true, at: stampOf(javaLeads.words) });
    timeline.push({ who: 'java-1', leads: false, at: stampOf(javaClosing.words) });
    timeline.sort((a, b) => a.at - b.at || Number(a.leads) - Number(b.leads));
    const leaders = new Set<string>();
    let most = 0;
    for (const event of timeline) {
      if (event.leads) leaders.add(event.who);
      else leaders.delete(event.who);
      most = Math.max(most, leaders.size);
    }
    expect(most).toBe(1);
    expect(timeline.filter((event) => event.leads).map((event) => event.who)).toEqual([
      'nest-a',
      'java-1',
      'nest-b',
    ]);
  }, 60_000);

  it("a Curator ServiceDiscovery and a Nest ServiceRegistry see each other's instances", async () => {
    const { zk } = connections;
    const registry = new ServiceRegistry(zk, { basePath: '/discovery' });
    const java = peer('curator-discovery', [
      'discovery',
      testConnectString(),
      `${connections.namespace}/discovery`,
      'orders',
      'java-1',
      '9001',
    ]);
    await java.waitForWord('registered', 30_000);

    const seenByNest = await registry.instances<{ zone: string }>('orders');
    expect(seenByNest).toHaveLength(1);
    expect(seenByNest[0]).toMatchObject({
      name: 'orders',
      id: 'java-1',
      address: '127.0.0.1',
      port: 9001,
      sslPort: null,
      serviceType: 'DYNAMIC',
      // Curator's JsonInstanceSerializer types the payload for Jackson.
      payload: { '@class': 'java.util.HashMap', zone: 'eu-java' },
    });
    expect(typeof seenByNest[0].registrationTimeUTC).toBe('number');

    await registry.register({
      name: 'orders',
      id: 'nest-1',
      address: '127.0.0.2',
      port: 9002,
      payload: { zone: 'eu-nest' },
    });
    const listedFrom = java.lines.length;
    java.send('list orders');
    await java.waitForWord('listed', 15_000, listedFrom);
    const seenByJava = java.lines
      .slice(listedFrom)
      .filter((line) => line.words[0] === 'instance')
      .map((line) => line.words.slice(2).join(' '))
      .sort();
    expect(seenByJava).toEqual(['java-1 127.0.0.1 9001 eu-java', 'nest-1 127.0.0.2 9002 eu-nest']);

    java.send('close');
    await java.waitForWord('closed', 15_000);
    expect((await registry.instances('orders')).map((instance) => instance.id)).toEqual(['nest-1']);
    await registry.close();
  }, 60_000);
});
