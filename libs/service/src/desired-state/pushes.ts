import { Logger } from '@nestjs/common';
import type { DesiredState } from '@qnet/contracts';

/**
 * The pushes of one driver's desired states, rendered after the changes commit (no row lock held
 * while a host's whole state renders) and coalesced: hosts whose changes commit while a render
 * runs are rendered together once it is done, each at the newest generation it was given. A
 * render reads what is committed when it starts, so a state never carries older content than its
 * generation (it may carry newer: the next push then changes nothing). A failed render is logged
 * and left to the agent's next pull: the change it follows is committed all the same.
 */
export class DriverPushes {
  private readonly logger = new Logger('DesiredStatePushes');
  private readonly pending = new Map<string, { generation: number; done: (() => void)[] }>();
  private draining: Promise<void> | undefined;

  constructor(
    private readonly driver: string,
    private readonly render: (hostIds: readonly string[]) => Promise<unknown[]>,
    private readonly publish: (hostId: string, state: DesiredState) => void,
  ) {}

  /** Resolves once a state of at least `generation` was pushed to the host (or failed to render). */
  push(hostId: string, generation: number): Promise<void> {
    return new Promise((resolve) => {
      const p = this.pending.get(hostId);
      if (p) {
        p.generation = Math.max(p.generation, generation);
        p.done.push(resolve);
      } else this.pending.set(hostId, { generation, done: [resolve] });
      this.draining ??= this.drain();
    });
  }

  /** Until the pushes scheduled so far are sent. */
  idle(): Promise<void> {
    return this.draining ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    while (this.pending.size) {
      const batch = [...this.pending];
      this.pending.clear();
      try {
        const specs = await this.render(batch.map(([hostId]) => hostId));
        batch.forEach(([hostId, p], i) =>
          this.publish(hostId, { driver: this.driver, generation: p.generation, spec: specs[i] }),
        );
      } catch (err) {
        this.logger.warn(
          `pushing ${this.driver} to ${batch.length} host(s) failed: their agents pull it at their next resync`,
          err,
        );
      }
      for (const [, p] of batch) for (const done of p.done) done();
    }
    // In the same tick as the check above: a push from now on starts a drain of its own.
    this.draining = undefined;
  }
}
