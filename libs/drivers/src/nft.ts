import { createHash } from 'node:crypto';
import { CommandError, type Executor } from './executor.js';
import type { Change } from './driver.js';

/**
 * A table the agent owns outright (docs/architecture.md, "One desired-state core"), replaced as a whole in one `nft -f` transaction —
 * the kernel swaps old rules for new atomically, so no packet sees a half-written ruleset. The
 * comment of its chain `fingerprint` carries a fingerprint of its body, so an unchanged desired
 * state plans nothing and a table deleted or edited by hand (fingerprint gone) is rewritten on the
 * next resync. (A chain, not the table's own comment, which nft cannot change in place: a table
 * whose change is only elements gains or loses them in place and swaps the chain — see
 * planTableUpdate.)
 */
export interface OwnedTable {
  family: 'inet' | 'ip' | 'ip6' | 'bridge';
  name: string;
}

const FINGERPRINT_RE = /comment "qnet:([0-9a-f]{16})"/;

export function fingerprintOf(body: string): string {
  // A change hashes the same body (its spec's, its predecessor's) more than once, and a body of
  // 1,000 ports is 200 KB: the last few are kept (a string compares by reference first).
  let fingerprint = recentFingerprints.get(body);
  if (fingerprint === undefined) {
    fingerprint = createHash('sha256').update(body).digest('hex').slice(0, 16);
    if (recentFingerprints.size >= 4) recentFingerprints.clear();
    recentFingerprints.set(body, fingerprint);
  }
  return fingerprint;
}

const recentFingerprints = new Map<string, string>();

/** The table's listing and fingerprint ('' when it has none); undefined when it does not exist. */
export async function readTable(
  exec: Executor,
  t: OwnedTable,
): Promise<{ listing: string; fingerprint: string } | undefined> {
  try {
    const { stdout } = await exec.read(['nft', '-t', 'list', 'table', t.family, t.name]);
    return { listing: stdout, fingerprint: FINGERPRINT_RE.exec(stdout)?.[1] ?? '' };
  } catch (err) {
    if (err instanceof CommandError && /No such file or directory/.test(err.stderr))
      return undefined;
    throw err;
  }
}

/** The named counters in `nft list table` output: name → packets and bytes. */
export function namedCounters(listing: string): Map<string, { packets: number; bytes: number }> {
  const out = new Map<string, { packets: number; bytes: number }>();
  for (const m of listing.matchAll(/counter (\w+) \{\s*packets (\d+) bytes (\d+)/g))
    out.set(m[1]!, { packets: Number(m[2]), bytes: Number(m[3]) });
  return out;
}

/** The table's current fingerprint; undefined when it does not exist ('' when it has none). */
export async function observeTable(exec: Executor, t: OwnedTable): Promise<string | undefined> {
  return (await readTable(exec, t))?.fingerprint;
}

/**
 * Changes that bring the table to `body` (its chains, sets and maps; '' = no table at all).
 * Creating the table first makes the delete valid when it does not exist yet. `state` is declared
 * with the table but not fingerprinted: objects whose values the kernel changes (counters).
 */
export function planTable(
  t: OwnedTable,
  body: string,
  observed: string | undefined,
  state = '',
): Change[] {
  const ref = `${t.family} ${t.name}`;
  if (!body) return observed === undefined ? [] : [['nft', 'delete', 'table', t.family, t.name]];
  const fingerprint = fingerprintOf(body);
  if (observed === fingerprint) return [];
  const script = `table ${ref}\ndelete table ${ref}\ntable ${ref} {\n${state}${body}  chain fingerprint {\n    comment "qnet:${fingerprint}"\n  }\n}\n`;
  return [{ argv: ['nft', '-f', '-'], input: script }];
}

/**
 * Changes that bring a table whose body differs from what it holds only in elements (of sets,
 * maps, and named counters) to `body`: those `statements` and the new fingerprint, in one `nft -f`
 * transaction — tens of elements instead of rewriting thousands.
 */
export function planTableUpdate(t: OwnedTable, body: string, statements: string[]): Change[] {
  const ref = `${t.family} ${t.name}`;
  const script = [
    ...statements,
    `delete chain ${ref} fingerprint`,
    `add chain ${ref} fingerprint { comment "qnet:${fingerprintOf(body)}" ; }`,
  ].join('\n');
  return [{ argv: ['nft', '-f', '-'], input: `${script}\n` }];
}
