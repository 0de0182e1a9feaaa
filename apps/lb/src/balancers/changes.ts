import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventPublisher } from '@qnet/bus';
import { DATA_SOURCE, inTransaction, type SqlTx } from '@qnet/persistence';
import { DesiredStateService, type HostState } from '../agent/desired-state.service.js';
import { LbRepository, type BalancerRow, type LbDriver } from './lb.repository.js';

export interface LbEvent {
  resource: 'load_balancer' | 'listener' | 'member' | 'health_check';
  event: string;
  id: string;
  data: object;
}

export interface Change<T> {
  result: T;
  events: LbEvent[];
}

export interface HostDriver {
  host_id: string;
  driver: LbDriver;
}

type Moved<T> = { moved: true } | { moved: false; value: T };

const keyOf = (h: HostDriver) => `${h.host_id}\0${h.driver}`;

/**
 * How every LB change is made: in one transaction the next generation of each host it touches
 * (their row locks order changes per host, taken in a fixed order), the change and those hosts'
 * new desired states; after the commit the states go to the agents and the events out on
 * qnet.evt.lb.*.
 */
@Injectable()
export class LbChanges {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly repo: LbRepository,
    private readonly desired: DesiredStateService,
    private readonly events: EventPublisher,
  ) {}

  async onHosts<T>(
    hosts: HostDriver[],
    fn: (tx: SqlTx, generationOf: (h: HostDriver) => number) => Promise<Change<T>>,
  ): Promise<T> {
    const keys = [...new Map(hosts.map((h) => [keyOf(h), h])).entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, h]) => h);
    const { change, states } = await inTransaction(this.ds, async (tx) => {
      const generations = new Map<string, number>();
      for (const h of keys)
        generations.set(keyOf(h), await this.repo.nextGeneration(tx, h.host_id, h.driver));
      const change = await fn(tx, (h) => generations.get(keyOf(h))!);
      const states: [string, HostState][] = [];
      for (const h of keys)
        states.push([h.host_id, await this.desired.render(tx, h.host_id, h.driver)]);
      return { change, states };
    });
    for (const [hostId, state] of states) this.desired.push(hostId, state);
    for (const e of change.events) this.events.emit('lb', e.resource, e.event, e.id, e.data);
    return change.result;
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
          return { result: { moved: true as const }, events: [] };
        await this.repo.touch(tx, id, generationOf(placement));
        const change = await fn(tx, lb);
        return { result: { moved: false as const, value: change.result }, events: change.events };
      });
      if (!outcome.moved) return outcome.value;
    }
  }
}
