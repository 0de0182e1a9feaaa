import { decide, decideAll, projectedRanking, Ranking, type Assignment } from './decide.js';

const policy = { antiFlapThreshold: 0.05, antiFlapHoldMs: 30_000 };
const HOLD = policy.antiFlapHoldMs;

function at(primary: string | null, backup: string | null, changedAt = 0): Assignment {
  return { primary, backup, changedAt };
}
const routers = (scores: Record<string, number>): Ranking =>
  new Ranking(Object.entries(scores).map(([id, score]) => ({ id, score })));

describe('Ranking', () => {
  it('orders by score, then by id', () => {
    expect(
      new Ranking([
        { id: 'b', score: 0.5 },
        { id: 'a', score: 0.5 },
        { id: 'c', score: 0.9 },
      ]).ids,
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
    expect(decide(at('r1', null), routers({}), 5, policy)).toEqual({
      next: { primary: null, backup: null, changedAt: 5 },
      reason: 'no_active_router',
    });
    expect(decide(at(null, null), routers({}), 5, policy)).toBeNull();
  });

  it("moves off a router the endpoint's own tunnel found dead, at once, and gives it no new tunnel", () => {
    const ranked = routers({ r1: 0.9, r2: 0.7, r3: 0.6 });
    const cur = { ...at('r1', 'r2', 1_000), avoid: ['r1'] };
    // r1 still reports best, and the hold time has not passed: the endpoint's word wins.
    expect(decide(cur, ranked, 1_001, policy)).toEqual({
      next: { primary: 'r2', backup: 'r3', changedAt: 1_001 },
      reason: 'tunnel_failed',
    });
    // A failed backup is replaced, the primary kept.
    expect(decide({ ...at('r1', 'r2', 1_000), avoid: ['r2'] }, ranked, 1_001, policy)).toEqual({
      next: { primary: 'r1', backup: 'r3', changedAt: 1_001 },
      reason: 'backup_replaced',
    });
    // When avoiding would leave it no router at all, it is not avoided.
    expect(
      decide({ ...at('r1', null, 1_000), avoid: ['r1'] }, routers({ r1: 0.9 }), 1_001, policy),
    ).toBeNull();
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

describe('decideAll (one round)', () => {
  // Ten routers of equal metrics; one tunnel costs 0.2 / 100 of a score (the default weights).
  const PER_TUNNEL = 0.002;
  const tenRouters = () =>
    Array.from({ length: 10 }, (_, i) => ({ id: `r${String(i).padStart(2, '0')}`, score: 0.8 }));
  const spread = (primaries: (string | null)[], routerIds: string[]) => {
    const count = new Map(routerIds.map((id) => [id, 0]));
    for (const p of primaries) if (p) count.set(p, count.get(p)! + 1);
    const n = [...count.values()];
    return { min: Math.min(...n), max: Math.max(...n), mean: primaries.length / routerIds.length };
  };

  it('spreads 1,000 new endpoints over equal routers instead of herding them onto one', async () => {
    const endpoints = Array.from({ length: 1_000 }, (_, i) => ({
      id: `ep-${i}`,
      cur: at(null, null),
    }));
    const changes = await decideAll(endpoints, new Ranking(tenRouters(), PER_TUNNEL), 0, policy);
    expect(changes).toHaveLength(1_000);
    const primaries = spread(
      changes.map((c) => c.next.primary),
      tenRouters().map((r) => r.id),
    );
    expect(primaries.max).toBeLessThanOrEqual(1.5 * primaries.mean);
    const backups = spread(
      changes.map((c) => c.next.backup),
      tenRouters().map((r) => r.id),
    );
    expect(backups.max).toBeLessThanOrEqual(1.5 * backups.mean);
    expect(changes.every((c) => c.next.primary !== c.next.backup)).toBe(true);

    // Steady state: the routers now report the tunnels (equal again): nothing moves.
    const assigned = changes.map((c) => ({ id: c.id, cur: c.next }));
    expect(
      await decideAll(assigned, new Ranking(tenRouters(), PER_TUNNEL), 10 * HOLD, policy),
    ).toEqual([]);

    // r00 fails: its endpoints move to their backups, and the survivors share them.
    const survivors = tenRouters().filter((r) => r.id !== 'r00');
    const failover = await decideAll(
      assigned,
      new Ranking(survivors, PER_TUNNEL),
      10 * HOLD,
      policy,
    );
    const moved = failover.filter((c) => c.reason === 'failover');
    expect(moved.length).toBe(assigned.filter((e) => e.cur.primary === 'r00').length);
    const share = spread(
      moved.map((c) => c.next.primary),
      survivors.map((r) => r.id),
    );
    expect(share.max).toBeLessThanOrEqual(1.5 * share.mean);
    expect(failover.every((c) => c.next.primary !== 'r00' && c.next.backup !== 'r00')).toBe(true);
  });

  it('reaches a steady state (0 moves per round) while the reports lag the decisions', async () => {
    // Unequal routers whose reports never change: each round starts from the tunnels assigned.
    const routersNow = Array.from({ length: 10 }, (_, i) => ({
      id: `r${i}`,
      score: 0.9 - i * 0.03,
      reportedTunnels: 0,
    }));
    let endpoints = Array.from({ length: 1_000 }, (_, i) => ({
      id: `ep-${i}`,
      cur: at(null, null),
    }));
    const movesPerRound: number[] = [];
    for (let round = 0; round < 8; round++) {
      const ranking = projectedRanking(
        routersNow,
        endpoints.map((e) => e.cur),
        PER_TUNNEL,
      );
      const decided = await decideAll(endpoints, ranking, round * HOLD, policy);
      const changes = new Map(decided.map((c) => [c.id, c.next]));
      movesPerRound.push(changes.size);
      endpoints = endpoints.map((e) => ({ id: e.id, cur: changes.get(e.id) ?? e.cur }));
    }
    expect(movesPerRound[0]).toBe(1_000);
    expect(movesPerRound.slice(-3)).toEqual([0, 0, 0]);
    // The better routers carry more, none all of them.
    const primaries = spread(
      endpoints.map((e) => e.cur.primary),
      routersNow.map((r) => r.id),
    );
    expect(primaries.max).toBeLessThan(300);
  });
});
