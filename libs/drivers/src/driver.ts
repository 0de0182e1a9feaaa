import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withDocument } from './documents.js';
import type { Executor } from './executor.js';

/**
 * One planned change: an argv; an argv fed a document on stdin (`nft -f -`); or an argv naming a
 * document file (for tools that must open a path, like `wg syncconf`: DOCUMENT in the argv becomes
 * a private 0600 file that exists only while the command runs). Keys never go on a command line.
 */
export type Change = string[] | StdinCommand | DocumentCommand | FileWrite;

export interface StdinCommand {
  argv: string[];
  input: string;
}

export interface DocumentCommand {
  argv: string[];
  document: string;
}

/**
 * A file a daemon reads (dnsmasq's configuration and hosts files), written by the agent itself:
 * into a fresh file renamed over the old one, so the daemon never reads half of it. Its directory
 * is created 0755 where missing. Reported as `write <path>`.
 */
export interface FileWrite {
  write: string;
  content: string;
  mode: number;
}

export const DOCUMENT = '<document>';

/** What a change is reported as: its argv (`write <path>` for a file). */
export const argvOf = (c: Change): string[] =>
  Array.isArray(c) ? c : 'write' in c ? ['write', c.write] : c.argv;

/**
 * A driver turns one kind of desired state into kernel or daemon state. `plan` is pure
 * (desired + observed → commands) and unit-tested with exact output; `observe` reads the host.
 * Applying the same desired state twice plans nothing the second time.
 */
export interface Driver<Spec = unknown, Observed = unknown> {
  readonly name: string;
  /** Validates and normalises a desired spec received from the bus; throws with the reason. */
  parse(spec: unknown): Spec;
  /** Reads the host; told what is wanted and what was applied last, to read only what matters. */
  observe(exec: Executor, desired?: Spec, previous?: Spec): Promise<Observed>;
  plan(desired: Spec, observed: Observed): Change[];
  /** What the host would look like after applying `desired` (used in dry-run, where nothing is observed). */
  assumeApplied(desired: Spec): Observed;
  /**
   * What the host holds when it is taken to be as the last apply (`applied`) left it, reading only
   * what that cannot tell: a pushed change then costs what it changes, not what the host holds.
   * Drift elsewhere is the resync's to repair; a change that fails against it is planned again
   * against a full observation.
   */
  observeSince?(exec: Executor, desired: Spec, applied: Spec): Promise<Observed>;
  /**
   * Parts of `desired` this host cannot realize as observed (resource name → why), which `plan`
   * leaves out so that the rest applies: the agent reports them, the control plane shows them.
   */
  unrealizable?(desired: Spec, observed: Observed): Record<string, string>;
  /** Live state worth publishing between applies (e.g. WireGuard handshakes); polled by the agent. */
  status?(exec: Executor): Promise<unknown>;
  /**
   * For drivers whose realization follows live observations (health probes, connection counts):
   * told each desired state, they call `changed` whenever the host should be reconciled again —
   * with `report` when their live status changed and must be published even if the reconcile
   * changes nothing (a tunnel that failed over).
   */
  follow?(desired: Spec, changed: (report?: boolean) => void): void;
  /** Told when an apply of `plan`'s changes has ended, well or not (see the tunnel driver). */
  applied?(): void;
  /** Ends what `follow` started (probe processes, timers). */
  stop?(): void;
}

export interface ApplyOutcome {
  /** The commands run, as argv lists: their documents (which may hold keys) are not reported. */
  changes: string[][];
  /** What was left out because this host cannot realize it (Driver.unrealizable). */
  rejected: Record<string, string>;
}

/**
 * observe → plan → run each command in order; stops at the first failing command. A `delta`
 * (a pushed change after a successful apply of `previous`) is planned against what `previous`
 * left where the driver can say so (observeSince), and against a full observation if that fails.
 */
export async function reconcile<S, O>(
  driver: Driver<S, O>,
  exec: Executor,
  desired: S,
  previous: S | undefined,
  opts: { confirmDrift?: boolean; delta?: boolean } = {},
): Promise<ApplyOutcome & { fallback?: string }> {
  if (exec.mode === 'dry-run')
    return execute(
      exec,
      driver.plan(desired, driver.assumeApplied(previous ?? driver.parse({}))),
      {},
    );
  let fallback: string | undefined;
  if (opts.delta && previous !== undefined && driver.observeSince) {
    try {
      const observed = await driver.observeSince(exec, desired, previous);
      return await execute(
        exec,
        driver.plan(desired, observed),
        driver.unrealizable?.(desired, observed) ?? {},
      );
    } catch (err) {
      fallback = (err as Error).message;
    }
  }
  let observed = await driver.observe(exec, desired, previous);
  let changes = driver.plan(desired, observed);
  // A state already applied that now looks different must look so twice: one observation taken
  // while a daemon was busy (vtysh omits a slow daemon's section) is not drift to repair.
  if (changes.length && opts.confirmDrift) {
    observed = await driver.observe(exec, desired, previous);
    changes = driver.plan(desired, observed);
  }
  const outcome = await execute(exec, changes, driver.unrealizable?.(desired, observed) ?? {});
  return fallback === undefined ? outcome : { ...outcome, fallback };
}

async function execute(
  exec: Executor,
  changes: Change[],
  rejected: Record<string, string>,
): Promise<ApplyOutcome> {
  for (const c of batched(exec, changes)) {
    if (c.file) await writeAtomically(c.file);
    else if (c.document !== undefined)
      await withDocument(c.document, (file) =>
        exec.run(c.argv.map((a) => (a === DOCUMENT ? file : a))),
      );
    else await exec.run(c.argv, c.input);
  }
  return { changes: changes.map(argvOf), rejected };
}

/** Modes are set explicitly: the agent's umask (0077, for its secrets) would narrow them. */
async function writeAtomically(f: FileWrite): Promise<void> {
  await makeDirectory(path.dirname(f.write));
  const tmp = `${f.write}.${process.pid}.tmp`;
  await writeFile(tmp, f.content);
  await chmod(tmp, f.mode);
  await rename(tmp, f.write);
}

/** mkdir -p, each directory it creates 0755 (a daemon that dropped its privileges reads below). */
async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT') throw err;
    await makeDirectory(path.dirname(dir));
    await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
  await chmod(dir, 0o755);
}

const BATCHABLE = new Set(['ip', 'bridge']);

type Runnable = { argv: string[]; input?: string; document?: string; file?: FileWrite };

/**
 * Consecutive ip(8) or bridge(8) commands for the same namespace (none, or `-n <name>`) run as one
 * `-batch -` process (thousands of fdb entries, or a guest's link, address and route, in one exec);
 * it stops at the first failing line like the loop would. The host's own namespace gets a batch
 * even for one line: its batch processes are started ahead (ExecaExecutor). Arguments are
 * validated names and addresses without whitespace, so a line splits back exactly. Dry-run
 * records them one by one.
 */
export function batched(exec: Executor, changes: Change[]): Runnable[] {
  if (exec.mode === 'dry-run') return changes.map((c) => ({ argv: argvOf(c) }));
  const out: Runnable[] = [];
  let group: { prefix: string[]; lines: string[][] } | undefined;
  const flush = () => {
    if (group?.lines.length === 1 && group.prefix.length > 1)
      out.push({ argv: [...group.prefix, ...group.lines[0]!] });
    else if (group)
      out.push({
        argv: [...group.prefix, '-batch', '-'],
        input: group.lines.map((l) => l.join(' ')).join('\n') + '\n',
      });
    group = undefined;
  };
  for (const change of changes) {
    const split = Array.isArray(change) ? batchLine(change) : undefined;
    if (split && group?.prefix.join(' ') === split.prefix.join(' ')) {
      group.lines.push(split.line);
      continue;
    }
    flush();
    if (split) group = { prefix: split.prefix, lines: [split.line] };
    else if (Array.isArray(change)) out.push({ argv: change });
    else out.push('write' in change ? { argv: argvOf(change), file: change } : change);
  }
  flush();
  return out;
}

/** An ip/bridge command as its program (and namespace) prefix and the line a batch would read. */
function batchLine(argv: string[]): { prefix: string[]; line: string[] } | undefined {
  if (!BATCHABLE.has(argv[0]!) || !argv.every((a) => a.length > 0 && !/\s/.test(a))) return;
  const prefix = argv[1] === '-n' && argv.length > 3 ? argv.slice(0, 3) : argv.slice(0, 1);
  const line = argv.slice(prefix.length);
  return !line.length || line[0]!.startsWith('-') ? undefined : { prefix, line };
}
