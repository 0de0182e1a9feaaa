import { QnetError, type ApplyResult, type DesiredState } from '@qnet/contracts';
import { reconcile, type Driver, type Executor } from '@qnet/drivers';
import { agentMetrics } from './agent-metrics.js';

/** A driver as the agent runs it, whatever its spec and observation types. */
export interface Runner {
  readonly name: string;
  readonly appliedGeneration: number;
  onLiveChange: (report: boolean) => void;
  apply(state: DesiredState, how?: ApplyHow): Promise<ApplyResult>;
  resync(): Promise<ApplyResult> | undefined;
  status(): Promise<(ApplyResult & { observed: unknown }) | undefined>;
  stop(): void;
}

/**
 * A push is a `delta`: planned against what the last apply left (Driver.observeSince), when that
 * apply succeeded with nothing left out. Pulls and resyncs observe the whole host.
 */
export interface ApplyHow {
  delta?: boolean;
}

/** An idle driver (nothing desired, nothing of its own found) reads the host every 5th resync. */
export const IDLE_CHECK_EVERY = 5;

/**
 * Holds one driver's desired state and applies it one at a time: commands never interleave,
 * stale generations are ignored, a queued state that a newer one supersedes is skipped, and the
 * same generation again re-reconciles (drift repair).
 */
export class DriverRunner<S, O> implements Runner {
  private desired: S | undefined;
  private applied: S | undefined;
  /** The host holds exactly `applied`: its apply succeeded and left nothing out. */
  private holdsApplied = false;
  private generation = -1;
  private desiredGeneration = -1;
  private chain: Promise<unknown> = Promise.resolve();
  private last?: ApplyResult;
  /** Highest generation handed to apply(): a queued older state is superseded, not applied. */
  private newest = -1;
  /** Re-applies of an empty state that found nothing of the driver's on the host, in a row. */
  private idleChecks = 0;
  /** Called when the driver's live observations call for a reconcile (see Driver.follow). */
  onLiveChange: (report: boolean) => void = () => undefined;

  /** The empty desired state, as the driver normalizes it. */
  private readonly nothing: string;

  constructor(
    private readonly driver: Driver<S, O>,
    private readonly exec: Executor,
  ) {
    this.nothing = JSON.stringify(driver.parse({}));
  }

  get name(): string {
    return this.driver.name;
  }

  stop(): void {
    this.driver.stop?.();
  }

  /** With nothing desired there is nothing live to report: an idle agent polls no daemon. */
  private holdsNothing(): boolean {
    return this.desired === undefined || this.isNothing(this.desired);
  }

  private isNothing(spec: S): boolean {
    return JSON.stringify(spec) === this.nothing;
  }

  get appliedGeneration(): number {
    return this.generation;
  }

  /** The last apply's result with the driver's live state, for drivers that have one. */
  async status(): Promise<(ApplyResult & { observed: unknown }) | undefined> {
    if (!this.driver.status || !this.last || this.holdsNothing()) return undefined;
    return { ...this.last, changes: [], observed: await this.driver.status(this.exec) };
  }

  apply(state: DesiredState, how: ApplyHow = {}): Promise<ApplyResult> {
    this.newest = Math.max(this.newest, state.generation);
    const run = this.chain.then(async () =>
      // Superseded only while the newer state is still to be applied; older than applied is stale.
      state.generation < this.newest && this.newest > this.generation
        ? this.superseded(state)
        : (this.last = await this.applyNow(state, how)),
    );
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Re-applies the last desired state (periodic resync when the control plane is silent). */
  resync(): Promise<ApplyResult> | undefined {
    if (this.desired === undefined) return undefined;
    return this.apply({
      driver: this.driver.name,
      generation: this.desiredGeneration,
      spec: this.desired,
    });
  }

  /**
   * The same empty state again, after the host was found holding nothing of this driver's: the
   * host is read only every IDLE_CHECK_EVERY times (drift there means someone else made objects
   * the agent owns). An idle agent otherwise starts a process or two per driver each resync.
   */
  private idleAgain(generation: number, spec: S): boolean {
    if (this.idleChecks === 0 || generation !== this.generation || !this.isNothing(spec))
      return false;
    return this.idleChecks++ % IDLE_CHECK_EVERY !== 0;
  }

  private superseded(state: DesiredState): ApplyResult {
    return {
      driver: this.driver.name,
      generation: state.generation,
      ok: true,
      changes: [],
      error: `ignored: generation ${this.newest} is queued`,
      superseded: true,
    };
  }

  private async applyNow(state: DesiredState, how: ApplyHow): Promise<ApplyResult> {
    const base = { driver: this.driver.name, generation: state.generation };
    if (state.generation < this.generation) {
      return {
        ...base,
        ok: true,
        changes: [],
        error: `ignored: generation ${this.generation} already applied`,
      };
    }
    let spec: S;
    try {
      spec = this.driver.parse(state.spec);
    } catch (err) {
      throw new QnetError('invalid_argument', `invalid desired state: ${(err as Error).message}`, [
        { field: 'spec', message: (err as Error).message },
      ]);
    }
    if (this.idleAgain(state.generation, spec)) return { ...base, ok: true, changes: [] };
    const timer = agentMetrics.applyDuration.startTimer({ driver: this.name });
    try {
      this.desired = spec;
      this.desiredGeneration = state.generation;
      this.driver.follow?.(spec, (report) => this.onLiveChange(report === true));
      const delta = Boolean(how.delta) && this.holdsApplied && state.generation > this.generation;
      this.holdsApplied = false;
      this.idleChecks = 0;
      const { changes, rejected, fallback } = await reconcile(
        this.driver,
        this.exec,
        spec,
        this.applied,
        { confirmDrift: state.generation === this.generation, delta },
      ).finally(() => this.driver.applied?.());
      if (fallback !== undefined) agentMetrics.deltaFallbacks.inc({ driver: this.name });
      this.applied = spec;
      this.holdsApplied = Object.keys(rejected).length === 0;
      this.idleChecks = !changes.length && this.holdsApplied && this.holdsNothing() ? 1 : 0;
      this.generation = state.generation;
      agentMetrics.appliedGeneration.set({ driver: this.name }, state.generation);
      timer({ outcome: 'ok' });
      return { ...base, ok: true, changes, rejected };
    } catch (err) {
      timer({ outcome: 'error' });
      return { ...base, ok: false, changes: [], error: (err as Error).message };
    }
  }
}
