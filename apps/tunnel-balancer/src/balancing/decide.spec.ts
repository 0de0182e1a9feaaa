import { decide, rank, type Assignment, type RankedRouter } from './decide.js';

const policy = { antiFlapThreshold: 0.05, antiFlapHoldMs: 30_000 };
const HOLD = policy.antiFlapHoldMs;

function at(primary: string | null, backup: string | null, changedAt = 0): Assignment {
  return { primary, backup, changedAt };
}
const routers = (scores: Record<string, number>): RankedRouter[] =>
  rank(Object.entries(scores).map(([id, score]) => ({ id, score })));

describe('rank', () => {
  it('orders by score, then by id', () => {
    expect(
      rank([
        { id: 'b', score: 0.5 },
        { id: 'a', score: 0.5 },
        { id: 'c', score: 0.9 },
      ]).map((r) => r.id),
    ).toEqual(['c', 'a', 'b']);
  });
});

describe('decide', () => {
  it('gives a new endpoint the best router as primary and the second as backup', () => {
    const c = decide(at(null, null), routers({ r1: 0.7, r2: 0.8, r3: 0.6 }), 5, policy);
    expect(c).toEqual({ next: { primary: 'r2', backup: 'r1', changedAt: 5 }, reason: 'initial' });
  });

  it('never moves to a router better by 0.04, however long it waits', () => {
    const cur = at('r1', 'r2');
    const ranked = routers({ r1: 0.7, r2: 0.72, r3: 0.74 });
    for (const now of [HOLD, 10 * HOLD, 1000 * HOLD])
      expect(decide(cur, ranked, now, policy)).toBeNull();
  });

  it('moves to a router better by 0.06 only once the hold time has passed', () => {
    const cur = at('r1', 'r2', 1_000);
    const ranked = routers({ r1: 0.7, r2: 0.6, r3: 0.76 });
    expect(decide(cur, ranked, 1_000 + HOLD - 1, policy)).toBeNull();
    expect(decide(cur, ranked, 1_000 + HOLD, policy)).toEqual({
      next: { primary: 'r3', backup: 'r1', changedAt: 1_000 + HOLD },
      reason: 'better_router',
    });
  });

  it('fails over to the backup at once when the primary goes inactive, inside the hold time', () => {
    const cur = at('r1', 'r2', 1_000);
    const c = decide(cur, routers({ r2: 0.5, r3: 0.9 }), 1_001, policy);
    // r2 was the backup (a tunnel already exists), so it takes over even though r3 scores higher;
    // the backup is then replaced.
    expect(c).toEqual({
      next: { primary: 'r2', backup: 'r3', changedAt: 1_001 },
      reason: 'failover',
    });
  });

  it('fails over to the best router when primary and backup are both gone', () => {
    const c = decide(at('r1', 'r2', 0), routers({ r3: 0.4, r4: 0.6 }), 1, policy);
    expect(c?.next).toEqual({ primary: 'r4', backup: 'r3', changedAt: 1 });
    expect(c?.reason).toBe('failover');
  });

  it('replaces an inactive backup at once and keeps the primary', () => {
    const c = decide(at('r1', 'r2', 0), routers({ r1: 0.5, r3: 0.6, r4: 0.4 }), 1, policy);
    expect(c).toEqual({
      next: { primary: 'r1', backup: 'r3', changedAt: 1 },
      reason: 'backup_replaced',
    });
  });

  it('upgrades the backup under the same threshold and hold rules', () => {
    const cur = at('r1', 'r2', 0);
    expect(decide(cur, routers({ r1: 0.9, r2: 0.5, r3: 0.54 }), HOLD, policy)).toBeNull();
    expect(decide(cur, routers({ r1: 0.9, r2: 0.5, r3: 0.56 }), HOLD - 1, policy)).toBeNull();
    expect(decide(cur, routers({ r1: 0.9, r2: 0.5, r3: 0.56 }), HOLD, policy)?.next.backup).toBe(
      'r3',
    );
  });

  it('has no backup with a single router, and clears both when none is active', () => {
    expect(decide(at(null, null), routers({ r1: 0.5 }), 0, policy)?.next).toEqual({
      primary: 'r1',
      backup: null,
      changedAt: 0,
    });
    expect(decide(at('r1', null), [], 5, policy)).toEqual({
      next: { primary: null, backup: null, changedAt: 5 },
      reason: 'no_active_router',
    });
    expect(decide(at(null, null), [], 5, policy)).toBeNull();
  });

  it('moves at most once per hold time under a flapping metric stream', () => {
    let cur = at(null, null);
    let moves = 0;
    // Every 100 ms r1 and r2 swap between 0.9 and 0.5 for ten hold times.
    for (let now = 0; now <= 10 * HOLD; now += 100) {
      const up = Math.floor(now / 100) % 2 === 0;
      const c = decide(cur, routers({ r1: up ? 0.9 : 0.5, r2: up ? 0.5 : 0.9 }), now, policy);
      if (!c) continue;
      if (c.reason === 'better_router') {
        expect(now - cur.changedAt).toBeGreaterThanOrEqual(HOLD);
        moves++;
      }
      cur = c.next;
    }
    expect(moves).toBeGreaterThan(0);
    expect(moves).toBeLessThanOrEqual(10);
  });
});
