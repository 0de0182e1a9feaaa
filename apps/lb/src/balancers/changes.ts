import { Injectable } from '@nestjs/common';
import type { SqlTx } from '@qnet/persistence';
import { DesiredStateChanges, type Change, type GenerationOf } from '@qnet/service';
import { LbRepository, type BalancerRow, type LbDriver } from './lb.repository.js';

export type { Change } from '@qnet/service';

export interface HostDriver {
  host_id: string;
  driver: LbDriver;
}

type Moved<T> = { moved: true } | { moved: false; value: T };

/** How every LB change is made: the desired-state core, on the hosts whose drivers realize it. */
@Injectable()
export class LbChanges {
  constructor(
    private readonly core: DesiredStateChanges,
    private readonly repo: LbRepository,
  ) {}

  onHosts<T>(
    hosts: HostDriver[],
    fn: (tx: SqlTx, generationOf: GenerationOf) => Promise<Change<T>>,
  ): Promise<T> {
    return this.core.run(async (tx, touch) => fn(tx, await touch.hosts(hosts)));
  }

  /**
   * A change to an existing LB, its row locked and marked changed (404 if it is gone). Should the
   * LB move to another host between looking it up and locking it, the change starts over.
   */
  async onBalancer<T>(
    id: string,
    fn: (tx: SqlTx, lb: BalancerRow) => Promise<Change<T>>,
  ): Promise<T> {
    for (;;) {
      const { host_id, driver } = await this.repo.placementOf(id);
      const placement = { host_id, driver };
      const outcome = await this.onHosts<Moved<T>>([placement], async (tx, generationOf) => {
        const lb = await this.repo.balancer(tx, id, true);
        if (lb.host_id !== placement.host_id || lb.driver !== placement.driver)
          return { result: { moved: true as const } };
        await this.repo.touch(tx, id, generationOf(placement));
        const change = await fn(tx, lb);
        return { result: { moved: false as const, value: change.result }, events: change.events };
      });
      if (!outcome.moved) return outcome.value;
    }
  }
}
