import type { DecisionReason } from '@qnet/contracts';

/** An active routing server and its current score. */
export interface RankedRouter {
  id: string;
  score: number;
}

/** One endpoint's two tunnels and when they last changed (ms). */
export interface Assignment {
  primary: string | null;
  backup: string | null;
  changedAt: number;
  /** Routers this endpoint's own probes found unreachable lately: not given to it now. */
  avoid?: readonly string[];
}

export interface AntiFlapPolicy {
  antiFlapThreshold: number;
  antiFlapHoldMs: number;
}

export interface Change {
  next: Assignment;
  reason: DecisionReason;
}

/** How many of the best routers a backup is chosen from. */
const BACKUP_CANDIDATES = 64;

/**
 * The active routers best first — by score, then fewer tunnels, then id, so that every instance
 * ranks the same way — with what a round has already assigned charged to them: one more tunnel
 * costs a router `perTunnel` of its score (the score's share of one connection, unclamped), so
 * that a round of many new or failed-over endpoints spreads them instead of sending every one to
 * the router that was best before the round (the herd).
 */
export class Ranking {
  private readonly order: (RankedRouter & { tunnels: number })[];
  private readonly byId: Map<string, RankedRouter & { tunnels: number }>;
  /** primary → backup → endpoints so paired. */
  private readonly backups = new Map<string, Map<string, number>>();
  /** bestOtherThan(primary) without `avoid`, until the ranking or the pairs change. */
  private readonly backupMemo = new Map<string, RankedRouter | undefined>();

  constructor(
    routers: RankedRouter[],
    private readonly perTunnel = 0,
  ) {
    this.order = routers.map((r) => ({ ...r, tunnels: 0 })).sort(ranksBefore);
    this.byId = new Map(this.order.map((r) => [r.id, r]));
  }

  get ids(): string[] {
    return this.order.map((r) => r.id);
  }

  /** The best router, leaving out `avoid`. */
  best(avoid: readonly string[] = []): RankedRouter | undefined {
    return avoid.length ? this.order.find((r) => !avoid.includes(r.id)) : this.order[0];
  }

  /**
   * The backup for an endpoint of `primary`: among the best few others, the best once each is
   * charged for the endpoints of the same primary it already backs (they would all fail over onto
   * it together), so that a failed router's endpoints land on many survivors.
   */
  bestOtherThan(primary: string, avoid: readonly string[] = []): RankedRouter | undefined {
    // A round where nothing moves asks the same question once per endpoint of each primary.
    if (avoid.length) return this.searchBackup(primary, avoid);
    if (this.backupMemo.has(primary)) return this.backupMemo.get(primary);
    const best = this.searchBackup(primary, avoid);
    this.backupMemo.set(primary, best);
    return best;
  }

  private searchBackup(primary: string, avoid: readonly string[]): RankedRouter | undefined {
    const shared = this.backups.get(primary);
    let best: (RankedRouter & { tunnels: number }) | undefined;
    let bestScore = -Infinity;
    // The primary and the avoided may be among them: as many more looks.
    const looks = Math.min(this.order.length, BACKUP_CANDIDATES + 1 + avoid.length);
    for (let i = 0; i < looks; i++) {
      const r = this.order[i]!;
      if (r.id === primary || (avoid.length && avoid.includes(r.id))) continue;
      const score = shared ? r.score - (shared.get(r.id) ?? 0) * this.perTunnel : r.score;
      if (score > bestScore) [best, bestScore] = [r, score];
    }
    return best;
  }

  /** Records that an endpoint of `primary` is backed by `backup` (or no longer, with -1). */
  pair(primary: string | null, backup: string | null, n: number): void {
    if (!primary || !backup) return;
    this.backupMemo.clear();
    const of = this.backups.get(primary) ?? new Map<string, number>();
    of.set(backup, (of.get(backup) ?? 0) + n);
    this.backups.set(primary, of);
  }

  scoreOf(id: string): number | undefined {
    return this.byId.get(id)?.score;
  }

  /** `tunnels` more (or fewer, negative) on an active router; others are not ranked. */
  charge(id: string, tunnels: number): void {
    const r = this.byId.get(id);
    if (!r || tunnels === 0) return;
    this.backupMemo.clear();
    // The order is total (ids are unique), so the search for `r` lands on it.
    this.order.splice(this.insertionPoint(r), 1);
    r.score -= tunnels * this.perTunnel;
    r.tunnels += tunnels;
    this.order.splice(this.insertionPoint(r), 0, r);
  }

  /** Binary search: the first position whose router ranks after `r`, or `r` itself. */
  private insertionPoint(r: RankedRouter & { tunnels: number }): number {
    let [lo, hi] = [0, this.order.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ranksBefore(this.order[mid]!, r) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function ranksBefore(
  a: RankedRouter & { tunnels: number },
  b: RankedRouter & { tunnels: number },
): number {
  return b.score - a.score || a.tunnels - b.tunnels || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The ranking a round starts from: each router charged for the tunnels the balancer has assigned
 * it beyond those it last reported (reports lag decisions), so that the load of the previous
 * rounds' decisions is seen before the router reports it — otherwise every round would send a
 * new batch to the routers that look idle, and a steady state would never be reached.
 */
export function projectedRanking(
  routers: (RankedRouter & { reportedTunnels: number })[],
  assignments: Assignment[],
  perTunnel: number,
): Ranking {
  const assigned = new Map<string, number>();
  for (const a of assignments)
    for (const id of [a.primary, a.backup]) if (id) assigned.set(id, (assigned.get(id) ?? 0) + 1);
  return new Ranking(
    routers.map((r) => ({
      id: r.id,
      score: r.score - Math.max(0, (assigned.get(r.id) ?? 0) - r.reportedTunnels) * perTunnel,
    })),
    perTunnel,
  );
}

/** How many endpoints a round decides between two turns of the event loop it shares. */
const SLICE = 256;

/**
 * One round over every endpoint: each decision is charged to the routers it gives a tunnel (and
 * credited to those it takes one from) before the next endpoint is decided. `pause` is awaited
 * after every slice of endpoints, so that a service answering requests on the same event loop
 * keeps answering during a round of 10,000 (about 5 µs each).
 */
export async function decideAll<E extends { id: string; cur: Assignment }>(
  endpoints: E[],
  ranking: Ranking,
  now: number,
  policy: AntiFlapPolicy,
  pause: () => Promise<void> = () => Promise.resolve(),
): Promise<(Change & { id: string })[]> {
  const changes: (Change & { id: string })[] = [];
  for (const e of endpoints) ranking.pair(e.cur.primary, e.cur.backup, 1);
  for (let i = 0; i < endpoints.length; i++) {
    if (i % SLICE === SLICE - 1) await pause();
    const e = endpoints[i]!;
    const change = decide(e.cur, ranking, now, policy);
    if (!change) continue;
    changes.push({ id: e.id, ...change });
    const had = [e.cur.primary, e.cur.backup];
    const has = [change.next.primary, change.next.backup];
    for (const id of has) if (id && !had.includes(id)) ranking.charge(id, 1);
    for (const id of had) if (id && !has.includes(id)) ranking.charge(id, -1);
    ranking.pair(e.cur.primary, e.cur.backup, -1);
    ranking.pair(change.next.primary, change.next.backup, 1);
  }
  return changes;
}

/**
 * The next primary and backup router of one endpoint, or null when nothing changes.
 * - A primary that is no longer active fails over at once to the backup (if active), without
 *   waiting for the hold time; a backup that is no longer active is replaced at once. A router
 *   the endpoint's own tunnel found unreachable (`avoid`) counts as inactive for it, unless that
 *   would leave it no router at all.
 * - Otherwise an endpoint moves only to a router better by at least the threshold, and only
 *   when the hold time has passed since its last change; the old primary becomes the backup,
 *   since the endpoint already has a tunnel to it. The backup is upgraded under the same rule.
 * `ranked` holds the active routers, best first.
 */
export function decide(
  cur: Assignment,
  ranked: Ranking,
  now: number,
  policy: AntiFlapPolicy,
): Change | null {
  const avoid = cur.avoid?.length && ranked.best(cur.avoid) ? cur.avoid : [];
  const best = ranked.best(avoid);
  if (!best) {
    if (cur.primary === null && cur.backup === null) return null;
    return { next: { primary: null, backup: null, changedAt: now }, reason: 'no_active_router' };
  }
  const active = (id: string) => ranked.scoreOf(id) !== undefined && !avoid.includes(id);
  const held = now - cur.changedAt < policy.antiFlapHoldMs;
  const gains = (candidate: RankedRouter, current: string) =>
    candidate.id !== current &&
    candidate.score - ranked.scoreOf(current)! >= policy.antiFlapThreshold;

  let { primary, backup } = cur;
  let reason: DecisionReason | undefined;
  if (primary === null) {
    primary = best.id;
    reason = 'initial';
  } else if (!active(primary)) {
    reason = avoid.includes(primary) ? 'tunnel_failed' : 'failover';
    primary = backup !== null && active(backup) ? backup : best.id;
  } else if (!held && gains(best, primary)) {
    backup = primary;
    primary = best.id;
    reason = 'better_router';
  }

  const alternative = ranked.bestOtherThan(primary, avoid);
  if (backup === null || backup === primary || !active(backup)) {
    const replaced = backup !== (alternative?.id ?? null);
    backup = alternative?.id ?? null;
    if (replaced) reason ??= 'backup_replaced';
  } else if (!reason && !held && alternative && gains(alternative, backup)) {
    backup = alternative.id;
    reason = 'better_backup';
  }

  if (!reason) return null;
  return { next: { primary, backup, changedAt: now }, reason };
}
