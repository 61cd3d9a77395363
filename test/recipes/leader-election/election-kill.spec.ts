import { afterAll, describe, expect, it } from '@jest/globals';
import { testConnectString, useTestConnections } from '../../support/connect.js';
import { ChildLine, LineProcess, spawnFixture } from '../../support/line-process.js';
import { until } from '../../support/until.js';

const connections = useTestConnections('election-kill');
const SESSION_TIMEOUT_MS = 2000;
const ROUNDS = 4;
const children: LineProcess[] = [];
afterAll(() => Promise.all(children.map((child) => child.stop())));

/** One leadership term of one process, in fencing-counter values and in time. */
interface Term {
  id: string;
  firstValue: number;
  lastValue: number;
  startedAt: number;
  endedAt: number;
}

function spawnCandidate(id: string): LineProcess {
  const child = spawnFixture(id, 'test/recipes/leader-election/fixtures/candidate.ts', [
    testConnectString(),
    connections.namespace,
    '/election',
    '/fence',
    id,
    String(SESSION_TIMEOUT_MS),
  ]);
  children.push(child);
  return child;
}

/** Reads each process's terms from its lines; a killed leader's term ends when it was killed. */
function termsOf(child: LineProcess, killedAt?: number): Term[] {
  const terms: Term[] = [];
  let open: Term | undefined;
  for (const line of child.lines) {
    const [event, id, value] = line.words;
    if (event === 'lead-start') {
      open = {
        id,
        firstValue: Number(value),
        lastValue: Number(value),
        startedAt: line.at,
        endedAt: Infinity,
      };
      terms.push(open);
    } else if (open && (event === 'tick' || event === 'lead-end')) {
      open.lastValue = Number(value);
      if (event === 'lead-end') {
        open.endedAt = line.at;
        open = undefined;
      }
    }
  }
  if (open && killedAt !== undefined) open.endedAt = killedAt;
  return terms;
}

/** Waits until the leader that printed `start` has advanced the counter three times. */
function ticked(child: LineProcess, start: ChildLine): Promise<ChildLine> {
  const from = Number(start.words[2]);
  return child.waitFor((line) => line.words[0] === 'tick' && Number(line.words[2]) >= from + 3);
}

describe('LeaderElection with candidates killed by SIGKILL', () => {
  it(`5 processes, the leader killed ${ROUNDS} times: one leader at a time (fencing counter), a successor within the session timeout + 1 s`, async () => {
    const { zk } = connections;
    await zk.create('/fence', '0');
    let spawned = 0;
    const alive = new Set<LineProcess>();
    const killedAt = new Map<LineProcess, number>();
    const starts: Array<{ child: LineProcess; line: ChildLine }> = [];
    const addCandidate = () => {
      const child = spawnCandidate(`p${spawned++}`);
      alive.add(child);
      child.onLine((line) => line.words[0] === 'lead-start' && starts.push({ child, line }));
      return child;
    };
    for (let i = 0; i < 5; i++) addCandidate();
    // Five tsx processes starting at once take a while on a loaded 2-core machine.
    await Promise.all([...alive].map((child) => child.waitForWord('candidate', 60_000)));

    const takeovers: number[] = [];
    const nextStart = async (after: number) => {
      const find = () => starts.find(({ child }, index) => index >= after && alive.has(child));
      await until(() => find() !== undefined, { message: 'a new leader', timeoutMs: 4000 });
      return find()!;
    };

    let leader = await nextStart(0);
    for (let round = 0; round < ROUNDS; round++) {
      // Let the leader advance the fencing counter a few times, then kill it without warning.
      await ticked(leader.child, leader.line);
      const seenStarts = starts.length;
      leader.child.kill('SIGKILL');
      const killTime = Date.now();
      killedAt.set(leader.child, killTime);
      alive.delete(leader.child);
      addCandidate();
      leader = await nextStart(seenStarts);
      takeovers.push(leader.line.at - killTime);
    }
    await ticked(leader.child, leader.line);
    await Promise.all([...alive].map((child) => child.stop()));

    const everyone = [...killedAt.keys(), ...alive];
    const allLines = everyone.flatMap((child) => child.lines);
    expect(
      allLines.filter((line) => line.words[0] === 'conflict' || line.words[0] === 'error'),
    ).toEqual([]);

    const terms = everyone
      .flatMap((child) => termsOf(child, killedAt.get(child) ?? Date.now()))
      .sort((a, b) => a.firstValue - b.firstValue);
    expect(terms).toHaveLength(ROUNDS + 1);
    expect(new Set(terms.map((term) => term.id)).size).toBe(ROUNDS + 1);
    for (let index = 1; index < terms.length; index++) {
      const [previous, next] = [terms[index - 1], terms[index]];
      // Fencing epochs never overlap: each term starts at or after the last value before it...
      expect(next.firstValue).toBeGreaterThanOrEqual(previous.lastValue);
      expect(next.lastValue).toBeGreaterThan(next.firstValue);
      // ...and no process believed it led while another did.
      expect(next.startedAt).toBeGreaterThanOrEqual(previous.endedAt);
    }
    // A write may land after its line was the last one to get out before the kill.
    expect(Number((await zk.get('/fence')).data.toString())).toBeGreaterThanOrEqual(
      terms.at(-1)!.lastValue,
    );

    console.log(`[election-kill] takeover after SIGKILL (ms): ${takeovers.join(', ')}`);
    for (const takeover of takeovers)
      expect(takeover).toBeLessThanOrEqual(SESSION_TIMEOUT_MS + 1000);
  }, 110_000);
});
