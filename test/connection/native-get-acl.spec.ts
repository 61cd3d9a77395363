import { describe, expect, it } from '@jest/globals';
import { spawnFixture } from '../support/line-process.js';
import { testConnectString, useTestConnections } from '../support/connect.js';

const connections = useTestConnections('native-get-acl');

/** "race ok=3 NoNodeError=197" as { ok: 3, NoNodeError: 197 }. */
function outcomes(text: string): Record<string, number> {
  return Object.fromEntries(
    text
      .split(' ')
      .slice(1)
      .map((pair) => pair.split('='))
      .map(([name, count]) => [name, Number(count)]),
  );
}

describe('getAcl on the native driver', () => {
  it('survives a node deleted during getAcl, failing it with NoNodeError (no SIGSEGV)', async () => {
    // The addon frees a null ACL vector on any failed getAcl reply: before getAcl went over a
    // side session, this child died of SIGSEGV within the first few dozen iterations.
    const child = spawnFixture('acl-race', 'test/connection/fixtures/acl-race.ts', [
      testConnectString(),
      connections.namespace,
      '200',
    ]);
    const done = await child.waitFor((line) => line.text === 'done', 110_000);
    expect(done.text).toBe('done');
    expect(await child.exited).toBe(0);

    const race = outcomes(child.lines.find((line) => line.words[0] === 'race')!.text);
    // Each call either read the ACL or found the node gone: no other outcome, and the race was
    // really run (most deletes overtake the getAcl).
    expect(Object.keys(race).filter((name) => name !== 'ok' && name !== 'NoNodeError')).toEqual([]);
    expect(race.NoNodeError).toBeGreaterThan(0);
    expect((race.ok ?? 0) + race.NoNodeError).toBe(200);

    // A connection closed with a getAcl in flight: the call settles (read, or a typed error).
    const closing = outcomes(child.lines.find((line) => line.words[0] === 'close')!.text);
    expect(Object.values(closing).reduce((sum, count) => sum + count, 0)).toBe(10);
  }, 120_000);
});
