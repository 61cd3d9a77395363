import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ZookeeperStorage } from 'nestjs-zookeeper';
import type { DashboardSnapshot } from 'nestjs-zookeeper/dashboard';
import { testNamespace } from '../support/connect.js';
import { DashboardFixture, nextEvent, PATHS, startDashboardApp } from './dashboard-fixture.js';

describe('dashboard API (JSON and server-sent events)', () => {
  let fixture: DashboardFixture;
  const get = async (path: string): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${fixture.url}${path}`);
    return { status: response.status, body: await response.json().catch(() => undefined) };
  };
  const post = async (path: string, body: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${fixture.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };

  beforeAll(async () => {
    fixture = await startDashboardApp(testNamespace('dashboard-api'));
  });
  afterAll(() => fixture?.close());

  it('serves the page and its files, uPlot included', async () => {
    const page = await fetch(fixture.url);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('<base href="/zk/" />');
    // every script and stylesheet of assets/ (app.js and the modules it imports) is served
    const own = readdirSync(new URL('../../libs/zookeeper/src/dashboard/assets/', import.meta.url))
      .filter((file) => /\.(js|css)$/.test(file))
      .sort();
    expect(own).toEqual(expect.arrayContaining(['app.css', 'app.js', 'format.js', 'charts.js']));
    for (const file of [...own, 'uPlot.iife.min.js', 'uPlot.min.css']) {
      const response = await fetch(`${fixture.url}/assets/${file}`);
      expect([file, response.status]).toEqual([file, 200]);
      expect(response.headers.get('content-type')).toMatch(/javascript|css/);
      expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    }
    expect((await fetch(`${fixture.url}/assets/secrets.json`)).status).toBe(404);
    expect((await fetch(`${fixture.url}/assets/..%2Fdashboard.service.ts`)).status).toBe(404);
  });

  it('shows the connection, the leader and candidates in order, members, services, queue and log', async () => {
    const { status, body } = await get('/api/snapshot');
    expect(status).toBe(200);
    const snapshot = body.snapshot as DashboardSnapshot;
    expect(snapshot.connection).toMatchObject({ state: 'CONNECTED', driver: expect.any(String) });
    expect(snapshot.connection.sessionId).toMatch(/^[0-9a-f]+$/);
    expect(snapshot.connection.negotiatedTimeoutMs).toBeGreaterThan(0);
    expect(snapshot.connection.ensemble?.[0]).toMatchObject({ mode: 'standalone' });

    const [election] = snapshot.elections;
    expect(election.leader?.participantId).toBe('alpha');
    expect(election.candidates.map((c) => c.participantId)).toEqual(['alpha', 'beta']);

    expect(snapshot.memberships[0].members?.map((m) => m.data)).toEqual([
      { worker: 'w1' },
      { worker: 'w2' },
    ]);
    expect(snapshot.services[0].services[0].name).toBe('orders');
    expect(snapshot.services[0].services[0].instances[0].data).toMatchObject({ port: 8080 });

    const [queue] = snapshot.queues;
    expect(queue).toMatchObject({ path: PATHS.queue, messages: 2, deadLetters: 1 });
    expect(queue.messages).toBe(await pendingMessages());

    const [log] = snapshot.logs;
    const stats = await fixture.messaging.broadcast(PATHS.log).stats();
    expect(log).toMatchObject({
      entries: stats.entries,
      messages: 3,
      firstOffset: stats.firstOffset,
      lastOffset: stats.lastOffset,
    });
    expect(log.subscribers).toEqual([expect.objectContaining({ id: 'billing', lag: 1 })]);
    expect(snapshot.errors).toEqual([]);
  });

  async function pendingMessages(): Promise<number> {
    const names = await fixture.zk.getChildren(`${PATHS.queue}/items`);
    return names.reduce((sum, name) => sum + Number(/m(\d+)-\d{10}$/.exec(name)![1]), 0);
  }

  it('pushes samples over SSE, and a published message shows in the next ones', async () => {
    const first = await nextEvent<DashboardSnapshot>(`${fixture.url}/api/events`, () => true);
    expect(first.queues[0].path).toBe(PATHS.queue);
    const before = first.queues[0].messages!;
    const seen = nextEvent<DashboardSnapshot>(
      `${fixture.url}/api/events`,
      (snapshot) => snapshot.queues[0].messages === before + 1,
    );
    await fixture.messaging.queue(PATHS.queue).publish({ n: 3 });
    const updated = await seen;
    expect(updated.queues[0].messages).toBe(before + 1);
    expect(updated.queues[0].messages).toBe(await pendingMessages());
    const history = (await get('/api/snapshot')).body.history;
    expect(history.length).toBeGreaterThan(1);
    expect(history.at(-1).queues[PATHS.queue]).toMatchObject({ messages: before + 1 });
    // each event carries its sample's chart point, the one the history keeps
    expect(updated.point).toEqual({
      at: updated.at,
      queues: {
        [PATHS.queue]: {
          items: updated.queues[0].items,
          messages: before + 1,
          inFlight: updated.queues[0].inFlight.length,
          published: updated.queues[0].publishedPerSecond,
          finished: updated.queues[0].finishedPerSecond,
        },
      },
      logs: {
        [PATHS.log]: {
          rate: updated.logs[0].messagesPerSecond,
          lag: { billing: updated.logs[0].subscribers[0].lag },
        },
      },
    });
    expect(history).toContainEqual(updated.point);
  });

  it('shows a takeover with its duration when the leader steps down', async () => {
    await nextEvent<DashboardSnapshot>(`${fixture.url}/api/events`, () => true);
    await fixture.election.close();
    const snapshot = await nextEvent<DashboardSnapshot>(
      `${fixture.url}/api/events`,
      (s) => s.elections[0].leader?.participantId === 'beta',
    );
    expect(snapshot.elections[0].history[0]).toMatchObject({ participantId: 'alpha' });
    expect(snapshot.elections[0].history[0].durationMs).toBeGreaterThan(0);
  });

  it('lists, reads, replays and deletes dead letters', async () => {
    const { body } = await get(`/api/queues/dead-letters?queue=${encodeURIComponent(PATHS.queue)}`);
    expect(body.total).toBe(1);
    const [letter] = body.letters;
    expect(letter).toMatchObject({ message: { n: 0, fail: true }, attempts: 1 });
    expect(letter.error).toContain('cannot handle n=0');
    const one = await get(
      `/api/queues/dead-letter?queue=${encodeURIComponent(PATHS.queue)}&id=${letter.id}`,
    );
    expect(one.body.id).toBe(letter.id);

    const pending = await pendingMessages();
    expect(await post('/api/queues/replay', { queue: PATHS.queue, ids: [letter.id] })).toEqual({
      status: 200,
      body: { replayed: 1 },
    });
    expect(await pendingMessages()).toBe(pending + 1);
    expect((await fixture.messaging.queue(PATHS.queue).deadLetters()).length).toBe(0);

    // a queue the dashboard does not show is refused
    expect((await post('/api/queues/replay', { queue: '/elsewhere' })).status).toBe(400);
    expect((await post('/api/queues/discard', { queue: PATHS.queue, ids: ['../x'] })).status).toBe(
      400,
    );
  });

  it('browses the storage tree and reads a value, only under the storage roots', async () => {
    const root = await get(`/api/storage/children?path=${PATHS.storage}`);
    expect(root.body).toMatchObject({
      total: 2,
      children: [
        { name: 'feature', children: 0 },
        { name: 'limits', children: 1 },
      ],
    });
    const value = await get(`/api/storage/value?path=${PATHS.storage}/limits/max-orders`);
    expect(value.body).toMatchObject({ value: { max: 10 }, version: 0 });
    expect((await get(`/api/storage/value?path=${PATHS.storage}/feature`)).body.value).toBe('on');
    expect((await get('/api/storage/children?path=/queues')).status).toBe(400);
    expect((await get(`/api/storage/value?path=${PATHS.storage}//x`)).status).toBe(400);
    expect((await get(`/api/storage/value?path=${PATHS.storage}/nothing`)).status).toBe(404);
  });

  it('refuses storage writes unless storageWrites is on (403), and writes nothing', async () => {
    const path = `${PATHS.storage}/feature`;
    const set = await post('/api/storage/set', { path, json: '"off"' });
    expect(set).toMatchObject({
      status: 403,
      body: { statusCode: 403, code: 'STORAGE_WRITES_DISABLED' },
    });
    expect((await post('/api/storage/delete', { path })).status).toBe(403);
    expect((await fixture.zk.get(path)).data.toString()).toBe('on');
  });
});

describe('dashboard storage writes (storageWrites: true)', () => {
  let fixture: DashboardFixture;
  const post = async (path: string, body: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${fixture.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  const value = async (path: string) => {
    const response = await fetch(`${fixture.url}/api/storage/value?path=${path}`);
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    fixture = await startDashboardApp(testNamespace('dashboard-storage-writes'), {
      storageWrites: true,
    });
  });
  afterAll(() => fixture?.close());

  it('says so in the snapshot', async () => {
    const response = await fetch(`${fixture.url}/api/snapshot`);
    expect(((await response.json()) as any).snapshot.storageWrites).toBe(true);
  });

  it('sets a value, reads it back (also through ZookeeperStorage), and deletes the key', async () => {
    const path = `${PATHS.storage}/limits/max-orders`;
    const set = await post('/api/storage/set', { path, json: '{"max": 20, "soft": true}' });
    expect(set).toEqual({ status: 200, body: { path, version: 1 } });
    expect((await value(path)).body).toMatchObject({ value: { max: 20, soft: true }, version: 1 });
    const storage = new ZookeeperStorage(fixture.zk, { root: PATHS.storage });
    expect(await storage.getValue('limits/max-orders')).toEqual({ max: 20, soft: true });

    // a new key, its parents created
    const created = await post('/api/storage/set', { path: `${PATHS.storage}/new/key`, json: '7' });
    expect(created.status).toBe(200);
    expect(await storage.getValue('new/key')).toBe(7);

    expect(await post('/api/storage/delete', { path })).toEqual({
      status: 200,
      body: { path, deleted: true },
    });
    expect((await value(path)).status).toBe(404);
    expect(await fixture.zk.exists(path)).toBeUndefined();
  });

  it('refuses bad JSON and bad keys (400), writing nothing', async () => {
    const path = `${PATHS.storage}/feature`;
    const bad = await post('/api/storage/set', { path, json: '{"max": ' });
    expect(bad).toMatchObject({ status: 400, body: { code: 'INVALID_JSON' } });
    expect(bad.body.message).toMatch(/not JSON/);
    expect((await post('/api/storage/set', { path })).status).toBe(400);
    expect((await fixture.zk.get(path)).data.toString()).toBe('on');
    for (const key of [`${PATHS.storage}/__chunks/x`, `${PATHS.storage}//x`, PATHS.storage]) {
      const response = await post('/api/storage/set', { path: key, json: '1' });
      expect([key, response.status, response.body.code]).toEqual([key, 400, 'INVALID_KEY']);
    }
    expect((await post('/api/storage/delete', { path: PATHS.storage })).status).toBe(400);
  });

  it('refuses paths outside the storage roots, the root check reused', async () => {
    for (const path of ['/queues/jobs/x', '/configuration/x', '/x']) {
      const set = await post('/api/storage/set', { path, json: '1' });
      expect([path, set.status, set.body.code]).toEqual([path, 400, 'OUTSIDE_STORAGE_ROOTS']);
      expect((await post('/api/storage/delete', { path })).status).toBe(400);
    }
    expect(await fixture.zk.exists('/configuration')).toBeUndefined();
    expect(await fixture.zk.exists('/x')).toBeUndefined();
    expect((await fixture.messaging.queue(PATHS.queue).deadLetters()).length).toBe(1);
  });

  it('answers 404 for an unknown key and 409 on a version conflict or child keys', async () => {
    const missing = await post('/api/storage/delete', { path: `${PATHS.storage}/nothing` });
    expect(missing).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });

    const path = `${PATHS.storage}/feature`;
    const stale = await post('/api/storage/set', { path, json: '"off"', expectedVersion: 5 });
    expect(stale).toMatchObject({ status: 409, body: { code: 'VERSION_CONFLICT' } });
    expect((await post('/api/storage/delete', { path, expectedVersion: 5 })).status).toBe(409);
    expect((await fixture.zk.get(path)).data.toString()).toBe('on');
    const current = await post('/api/storage/set', { path, json: '"off"', expectedVersion: 0 });
    expect(current).toEqual({ status: 200, body: { path, version: 1 } });

    await fixture.zk.create(`${PATHS.storage}/parent/child`, '1', { createParents: true });
    const parent = await post('/api/storage/delete', { path: `${PATHS.storage}/parent` });
    expect(parent).toMatchObject({ status: 409, body: { code: 'HAS_CHILD_KEYS' } });
  });
});

@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    return request.headers['x-token'] === 'secret';
  }
}

describe('dashboard access', () => {
  it('is off in production unless enabled', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const off = await startDashboardApp(testNamespace('dashboard-prod'));
      try {
        expect((await fetch(off.url)).status).toBe(404);
        expect((await fetch(`${off.url}/api/snapshot`)).status).toBe(404);
      } finally {
        await off.close();
      }
      const on = await startDashboardApp(testNamespace('dashboard-prod-on'), { enabled: true });
      try {
        expect((await fetch(`${on.url}/api/snapshot`)).status).toBe(200);
      } finally {
        await on.close();
      }
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it("puts the app's guard in front of every route, and readOnly refuses the write actions", async () => {
    const fixture = await startDashboardApp(testNamespace('dashboard-guard'), {
      guards: [TokenGuard],
      readOnly: true,
      storageWrites: true,
    });
    try {
      expect((await fetch(`${fixture.url}/api/snapshot`)).status).toBe(403);
      expect((await fetch(`${fixture.url}/api/events`)).status).toBe(403);
      const headers = { 'x-token': 'secret', 'content-type': 'application/json' };
      expect((await fetch(`${fixture.url}/api/snapshot`, { headers })).status).toBe(200);
      const replay = await fetch(`${fixture.url}/api/queues/replay`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ queue: PATHS.queue }),
      });
      expect(replay.status).toBe(403);
      expect((await fixture.messaging.queue(PATHS.queue).deadLetters()).length).toBe(1);
      // storageWrites is refused too while readOnly; without the token the guard answers first
      const body = JSON.stringify({ path: `${PATHS.storage}/feature`, json: '"off"' });
      const set = await fetch(`${fixture.url}/api/storage/set`, { method: 'POST', headers, body });
      expect(set.status).toBe(403);
      expect(await set.json()).toMatchObject({ code: 'STORAGE_WRITES_DISABLED' });
      const unguarded = await fetch(`${fixture.url}/api/storage/set`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(unguarded.status).toBe(403);
      expect(await unguarded.json()).not.toMatchObject({ code: 'STORAGE_WRITES_DISABLED' });
      expect((await fixture.zk.get(`${PATHS.storage}/feature`)).data.toString()).toBe('on');
    } finally {
      await fixture.close();
    }
  });
});
