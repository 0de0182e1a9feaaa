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
}

export interface AntiFlapPolicy {
  antiFlapThreshold: number;
  antiFlapHoldMs: number;
}

export interface Change {
  next: Assignment;
  reason: DecisionReason;
}

/** Best first; equal scores by id, so every instance ranks the same way. */
export function rank(routers: RankedRouter[]): RankedRouter[] {
  return [...routers].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The next primary and backup router of one endpoint, or null when nothing changes.
 * - A primary that is no longer active fails over at once to the backup (if active), without
 *   waiting for the hold time; a backup that is no longer active is replaced at once.
 * - Otherwise an endpoint moves only to a router better by at least the threshold, and only
 *   when the hold time has passed since its last change; the old primary becomes the backup,
 *   since the endpoint already has a tunnel to it. The backup is upgraded under the same rule.
 * `ranked` holds the active routers, best first (see rank).
 */
export function decide(
  cur: Assignment,
  ranked: RankedRouter[],
  now: number,
  policy: AntiFlapPolicy,
): Change | null {
  if (!ranked.length) {
    if (cur.primary === null && cur.backup === null) return null;
    return { next: { primary: null, backup: null, changedAt: now }, reason: 'no_active_router' };
  }
  const scoreOf = new Map(ranked.map((r) => [r.id, r.score]));
  const bestOtherThan = (id: string) => ranked.find((r) => r.id !== id) ?? null;
  const held = now - cur.changedAt < policy.antiFlapHoldMs;
  const gains = (candidate: RankedRouter, current: string) =>
    candidate.id !== current && candidate.score - scoreOf.get(current)! >= policy.antiFlapThreshold;

  let { primary, backup } = cur;
  let reason: DecisionReason | undefined;
  const best = ranked[0]!;
  if (primary === null) {
    primary = best.id;
    reason = 'initial';
  } else if (!scoreOf.has(primary)) {
    primary = backup !== null && scoreOf.has(backup) ? backup : best.id;
    reason = 'failover';
  } else if (!held && gains(best, primary)) {
    backup = primary;
    primary = best.id;
    reason = 'better_router';
  }

  const alternative = bestOtherThan(primary);
  if (backup === null || backup === primary || !scoreOf.has(backup)) {
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
