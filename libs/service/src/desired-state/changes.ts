import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { encodeJson, NATS_CONNECTION } from '@qnet/bus';
import type { DataSource } from 'typeorm';
import { Subjects, type DesiredState, type DriverStatusReport } from '@qnet/contracts';
import { autocommit, DATA_SOURCE, type SqlTx } from '@qnet/persistence';
import {
  agentDriversRepository,
  type Generation,
  type HostDriver,
} from './agent-drivers.repository.js';
import { Outbox, type DomainEvent } from './outbox.js';
import { DriverPushes } from './pushes.js';

export type { HostDriver } from './agent-drivers.repository.js';

/** Renders one driver's spec for hosts, reading through `tx`: one spec per host id, in order. */
export interface DriverRenderer<Spec = unknown> {
  render(tx: SqlTx, hostIds: readonly string[]): Promise<Spec[]>;
}

/** A renderer's specs for drivers rendered host by host, in order. */
export async function renderEach<Spec>(
  hostIds: readonly string[],
  one: (hostId: string) => Promise<Spec>,
): Promise<Spec[]> {
  const specs: Spec[] = [];
  for (const hostId of hostIds) specs.push(await one(hostId));
  return specs;
}

/** Takes what an agent observed beyond the applied generation (health, sessions, counters). */
export interface DriverObserver {
  observe(report: DriverStatusReport): Promise<void>;
}

/** The drivers a service owns, by name (provided by agentDrivers()). */
export const AGENT_DRIVERS = Symbol('AGENT_DRIVERS');
export type AgentDriverMap = ReadonlyMap<
  string,
  { renderer: DriverRenderer; observer?: DriverObserver }
>;

export interface Change<T> {
  result: T;
  events?: DomainEvent[];
}

export type GenerationOf = (h: HostDriver) => number;

/** The hosts a change touches, given once in its transaction. */
export interface Touch {
  /**
   * Takes the next generation of each host (their rows locked in key order, so changes on
   * overlapping hosts cannot deadlock); call it once, after locking any parent row the hosts were
   * found through. Their states are rendered when the change is done.
   */
  hosts(hosts: readonly HostDriver[]): Promise<GenerationOf>;
}

/**
 * How every change to what agents realize is made, in one transaction: the change names the hosts
 * it touches, which takes each one's next generation; it is applied, and its events are written to
 * the outbox with it. Once it commits the events are relayed and each touched host's new state is
 * rendered and pushed (DriverPushes: after the commit, so that no host's lock is held while its
 * whole state renders, and coalesced across changes).
 */
@Injectable()
export class DesiredStateChanges implements BeforeApplicationShutdown {
  private readonly pushes = new Map<string, DriverPushes>();

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(AGENT_DRIVERS) private readonly drivers: AgentDriverMap,
    private readonly outbox: Outbox,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  /** The change's result once it committed; its pushes follow without holding the caller. */
  async run<T>(fn: (tx: SqlTx, touch: Touch) => Promise<Change<T>>): Promise<T> {
    let taken: Generation[] = [];
    const result = await this.outbox.transaction(async (tx, out) => {
      // A transaction retried (serialization) starts over.
      taken = [];
      let touched = false;
      const change = await fn(tx, {
        hosts: async (hosts) => {
          if (touched) throw new Error('a change names the hosts it touches once');
          touched = true;
          taken = hosts.length ? await agentDriversRepository.next(tx, unique(hosts)) : [];
          const generations = new Map(taken.map((g) => [keyOf(g), g.generation]));
          return (h) => {
            const g = generations.get(keyOf(h));
            if (g === undefined) throw new Error(`${h.driver} on ${h.host_id} was not touched`);
            return g;
          };
        },
      });
      for (const e of change.events ?? []) out.event(e);
      return change.result;
    });
    for (const g of taken) void this.pushesOf(g.driver).push(g.host_id, g.generation);
    return result;
  }

  /** Lets the pushes of committed changes go out before the bus and the pool close. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.pushes.values()].map((p) => p.idle()));
  }

  private pushesOf(driver: string): DriverPushes {
    let p = this.pushes.get(driver);
    if (!p) {
      const renderer = this.renderer(driver);
      p = new DriverPushes(
        driver,
        (hostIds) => renderer.render(autocommit(this.ds), hostIds),
        (hostId, state) => this.nc.publish(Subjects.agentCmd(hostId, driver), encodeJson(state)),
      );
      this.pushes.set(driver, p);
    }
    return p;
  }

  /** What an agent pulls: the host's current state (generation 0 and an empty spec if it has none). */
  async current(hostId: string, driver: string): Promise<DesiredState> {
    const tx = autocommit(this.ds);
    const generation = await agentDriversRepository.generation(tx, { host_id: hostId, driver });
    const [spec] = await this.renderer(driver).render(tx, [hostId]);
    return { driver, generation, spec };
  }

  /** An agent's report: the applied generation or error, then what the driver's observer takes. */
  async record(report: DriverStatusReport): Promise<void> {
    const known = await agentDriversRepository.record(autocommit(this.ds), report);
    if (known) await this.drivers.get(report.driver)?.observer?.observe(report);
  }

  private renderer(driver: string): DriverRenderer {
    const d = this.drivers.get(driver);
    if (!d) throw new Error(`this service owns no ${driver} driver`);
    return d.renderer;
  }
}

const keyOf = (h: HostDriver) => `${h.host_id}\0${h.driver}`;

function unique(hosts: readonly HostDriver[]): HostDriver[] {
  return [
    ...new Map(hosts.map((h) => [keyOf(h), { host_id: h.host_id, driver: h.driver }])).values(),
  ];
}
