import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
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
    const html = await page.text();
    expect(html).toContain('<base href="/zk/" />');
    for (const file of ['app.js', 'app.css', 'uPlot.iife.min.js', 'uPlot.min.css']) {
      const response = await fetch(`${fixture.url}/assets/${file}`);
      expect([file, response.status]).toEqual([file, 200]);
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
    expect((await get(`/api/storage/value?path=${PATHS.storage}/nothing`)).status).toBe(404);
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
    } finally {
      await fixture.close();
    }
  });
});
