import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { DesiredState, DriverStatusReport } from '@qnet/contracts';
import { autocommit, DATA_SOURCE, TurnBatch, type SqlTx } from '@qnet/persistence';
import {
  agentDriversRepository,
  type Generation,
  type HostDriver,
} from './agent-drivers.repository.js';
import { Outbox, type DomainEvent } from './outbox.js';

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
 * it touches, which takes each one's next generation; it is applied; each touched host's new state
 * is rendered in the same transaction — so a state never carries older content under a newer
 * generation. Once it commits the states are pushed to the agents, and the change's events, written
 * to the outbox in the transaction, are relayed.
 */
@Injectable()
export class DesiredStateChanges {
  /** Every host reports each push: a change to an overlay of 200 hosts brings 200 at once. */
  private readonly reports = new TurnBatch((reports: DriverStatusReport[]) =>
    agentDriversRepository.record(autocommit(this.ds), reports),
  );

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(AGENT_DRIVERS) private readonly drivers: AgentDriverMap,
    private readonly outbox: Outbox,
  ) {}

  run<T>(fn: (tx: SqlTx, touch: Touch) => Promise<Change<T>>): Promise<T> {
    return this.outbox.transaction(async (tx, out) => {
      let taken: Generation[] | undefined;
      const change = await fn(tx, {
        hosts: async (hosts) => {
          if (taken) throw new Error('a change names the hosts it touches once');
          taken = hosts.length ? await agentDriversRepository.next(tx, unique(hosts)) : [];
          const generations = new Map(taken.map((g) => [keyOf(g), g.generation]));
          return (h) => {
            const g = generations.get(keyOf(h));
            if (g === undefined) throw new Error(`${h.driver} on ${h.host_id} was not touched`);
            return g;
          };
        },
      });
      for (const [driver, group] of byDriver(taken ?? [])) {
        const specs = await this.renderer(driver).render(
          tx,
          group.map((g) => g.host_id),
        );
        group.forEach((g, i) =>
          out.push(g.host_id, { driver, generation: g.generation, spec: specs[i] }),
        );
      }
      for (const e of change.events ?? []) out.event(e);
      return change.result;
    });
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
    if (await this.reports.add(report))
      await this.drivers.get(report.driver)?.observer?.observe(report);
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

function byDriver<G extends HostDriver>(rows: readonly G[]): Map<string, G[]> {
  const out = new Map<string, G[]>();
  for (const r of rows) out.set(r.driver, [...(out.get(r.driver) ?? []), r]);
  return out;
}
