import type { Executor } from './executor.js';

/**
 * A driver turns one kind of desired state into kernel or daemon state. `plan` is pure
 * (desired + observed → commands) and unit-tested with exact output; `observe` reads the host.
 * Applying the same desired state twice plans nothing the second time.
 */
export interface Driver<Spec = unknown, Observed = unknown> {
  readonly name: string;
  /** Validates and normalises a desired spec received from the bus; throws with the reason. */
  parse(spec: unknown): Spec;
  observe(exec: Executor): Promise<Observed>;
  plan(desired: Spec, observed: Observed): string[][];
  /** What the host would look like after applying `desired` (used in dry-run, where nothing is observed). */
  assumeApplied(desired: Spec): Observed;
}

export interface ApplyOutcome<Observed> {
  changes: string[][];
  observed: Observed;
}

/** observe → plan → run each command in order; stops at the first failing command. */
export async function reconcile<S, O>(
  driver: Driver<S, O>,
  exec: Executor,
  desired: S,
  previous: S | undefined,
): Promise<ApplyOutcome<O>> {
  const observed =
    exec.mode === 'dry-run'
      ? driver.assumeApplied(previous ?? driver.parse({}))
      : await driver.observe(exec);
  const changes = driver.plan(desired, observed);
  for (const argv of changes) await exec.run(argv);
  return {
    changes,
    observed: exec.mode === 'dry-run' ? driver.assumeApplied(desired) : await driver.observe(exec),
  };
}
