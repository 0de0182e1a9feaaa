import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import { NATS_CONNECTION, SERVICE_INFO, StreamPublisher, type ServiceInfo } from '@qnet/bus';
import {
  makeEvent,
  Subjects,
  type BusServiceId,
  type DesiredState,
  type EventEnvelope,
} from '@qnet/contracts';
import { autocommit, DATA_SOURCE, inTransaction, runAlone, type SqlTx } from '@qnet/persistence';
import type { Compilable, OperationNodeSource } from 'kysely';
import { currentContext, endOfTurn } from '@qnet/runtime';
import { randomUUID } from 'node:crypto';
import { outboxRepository, type OutboxBatch, type OutboxEvent } from './outbox.repository.js';

/** How often rows no relay sent are looked for, and how old a row must be to count as such. */
const SWEEP_EVERY_MS = 1_000;
const UNSENT_AFTER_MS = 2_000;
/** Rows (transactions) per sweep and per DELETE. */
const SWEEP_BATCH = 100;
/** Events of one batch awaiting their stream acknowledgement at once. */
const RELAY_WINDOW = 256;
/** How long the stream may take to acknowledge a window of events (nats.js's default). */
const ACK_TIMEOUT_MS = 5_000;
/** How long sent rows wait to be deleted together. */
const FORGET_EVERY_MS = 100;

/**
 * Test hook: a service started with this set to an event subject kills itself (SIGKILL) right
 * after committing a change that emits it, before relaying anything — the crash the outbox exists
 * for. Never set outside tests.
 */
export const KILL_AFTER_COMMIT_ENV = 'QNET_TEST_KILL_AFTER_COMMIT';

/** A domain event: published on qnet.evt.<service>.<resource>.<event>. */
export interface DomainEvent {
  resource: string;
  event: string;
  id: string;
  data: unknown;
  /**
   * The project whose resource it is; by default the data's `project_id`. An event without one is
   * the cluster's (hosts, devices, tunnels): only the admin token's event stream carries it.
   */
  project?: string;
}

/** What one transaction has to say once it commits: its events (stored) and plain messages. */
export class Outgoing {
  /** Stored with the transaction: relayed even if the process dies right after the commit. */
  readonly events: OutboxEvent[] = [];
  /**
   * Sent after the commit, not stored: messages whose content the database already holds and
   * whose receivers ask again (a desired state is pulled at the agent's next resync, a decision
   * with GET /decision). Storing them would write every touched host's whole state with each
   * change, and 10,000 decisions with one evaluation round.
   */
  readonly transient: { subject: string; payload: string }[] = [];

  constructor(private readonly service: BusServiceId) {}

  /** A domain event, carrying the caller's request id. */
  event(e: DomainEvent): EventEnvelope {
    const { subject, envelope } = makeEvent(
      this.service,
      e.resource,
      e.event,
      e.id,
      e.data,
      currentContext()?.requestId,
      e.project ?? projectOf(e.data),
    );
    this.events.push({ id: envelope.id, subject, payload: JSON.stringify(envelope) });
    return envelope;
  }

  /** A host's new desired state for one driver, for its agent's command subject. */
  push(hostId: string, state: DesiredState): void {
    this.publish(Subjects.agentCmd(hostId, state.driver), state);
  }

  /** A plain NATS message, sent after the commit and not stored (see `transient`). */
  publish(subject: string, data: unknown): void {
    this.transient.push({ subject, payload: JSON.stringify(data) });
  }
}

function projectOf(data: unknown): string | undefined {
  const p = (data as { project_id?: unknown } | null)?.project_id;
  return typeof p === 'string' ? p : undefined;
}

/**
 * The transactional outbox. A change writes its events, one row per transaction, in its own
 * transaction; after the commit they are relayed at once (the caller is not held for it) and the
 * row deleted. Rows a crash left behind are relayed by the sweep, at start and every second after.
 * Each event's id is its JetStream message id, so an event relayed twice is stored once.
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Outbox');
  private readonly stream: StreamPublisher;
  private readonly service: BusServiceId;
  private readonly inFlight = new Set<Promise<void>>();
  private sweeper?: NodeJS.Timeout;
  private sweeping = false;
  /** Ids of sent rows waiting for their DELETE, and its timer. */
  private readonly unforgotten: string[] = [];
  private forgetter?: NodeJS.Timeout;

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(SERVICE_INFO) info: ServiceInfo,
  ) {
    this.stream = new StreamPublisher(nc);
    this.service = info.id;
  }

  /** Runs `fn` in a transaction whose events are written with it and relayed after its commit. */
  async transaction<T>(fn: (tx: SqlTx, out: Outgoing) => Promise<T>): Promise<T> {
    const out = new Outgoing(this.service);
    let batch: OutboxBatch | undefined;
    const result = await inTransaction(
      this.ds,
      (tx) => fn(tx, out),
      () => {
        if (!out.events.length) return undefined;
        batch = { id: randomUUID(), events: out.events };
        return outboxRepository.insert(batch);
      },
    );
    this.committed(batch, out.transient);
    return result;
  }

  /**
   * A change that is one statement (`change`, returning the changed row in its API view) with one
   * event carrying that row: the statement, its event's outbox row and the commit are one round
   * trip. `project` is the event's (the row is not known before). Resolves to the row, or
   * undefined when the statement changed nothing (and so emitted nothing).
   */
  async change<R extends object>(
    change: Compilable<R> & OperationNodeSource,
    e: { resource: string; event: string; id: string; project: string | undefined },
  ): Promise<R | undefined> {
    const requestId = currentContext()?.requestId;
    const { subject, envelope } = makeEvent(
      this.service,
      e.resource,
      e.event,
      e.id,
      undefined,
      requestId,
      e.project,
    );
    const batch: OutboxBatch = { id: randomUUID(), events: [] };
    const [row] = await runAlone(
      this.ds,
      outboxRepository.insertWith(change, batch.id, subject, envelope),
    );
    if (!row) return undefined;
    const payload = JSON.stringify({ ...envelope, data: row });
    batch.events.push({ id: envelope.id, subject, payload });
    this.committed(batch, []);
    return row;
  }

  onApplicationBootstrap(): void {
    this.track(this.sweep(0));
    this.sweeper = setInterval(() => this.track(this.sweep(UNSENT_AFTER_MS)), SWEEP_EVERY_MS);
  }

  /** Lets relays in progress finish (bounded) before the bus and the pool close. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    const deadline = new Promise((r) => setTimeout(r, 5_000).unref());
    await Promise.race([Promise.allSettled([...this.inFlight]), deadline]);
    clearTimeout(this.forgetter);
    this.forgetter = undefined;
    await Promise.race([this.deleteSent(), deadline]);
  }

  private committed(batch: OutboxBatch | undefined, transient: Outgoing['transient']): void {
    const kill = process.env[KILL_AFTER_COMMIT_ENV];
    if (kill && batch?.events.some((e) => e.subject === kill)) process.kill(process.pid, 'SIGKILL');
    for (const t of transient) this.nc.publish(t.subject, new TextEncoder().encode(t.payload));
    if (batch) this.track(this.relay([batch]));
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async sweep(minAgeMs: number): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const rows = await outboxRepository.pending(autocommit(this.ds), minAgeMs, SWEEP_BATCH);
      if (rows.length) {
        this.logger.log(`relaying ${rows.length} transaction(s) of events a relay did not send`);
        await this.relay(rows);
      }
    } catch (err) {
      this.logger.warn('outbox sweep failed (retried in a second)', err);
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * Sends each batch's events, then deletes the batches the stream acknowledged whole; the rest
   * stays for the sweep. Never throws.
   */
  private async relay(batches: readonly OutboxBatch[]): Promise<void> {
    // With the replies and the other events of this turn: one socket write for all of them.
    await endOfTurn();
    const sent: string[] = [];
    await Promise.all(
      batches.map(async (b) => {
        try {
          // A window at a time: a round's 10,000 events at once would hold 10,000 requests open.
          for (let i = 0; i < b.events.length; i += RELAY_WINDOW)
            await this.stream.publish(b.events.slice(i, i + RELAY_WINDOW), ACK_TIMEOUT_MS);
          sent.push(b.id);
        } catch (err) {
          this.logger.warn(`events of ${b.id} not all stored yet (the sweep retries)`, err);
        }
      }),
    );
    if (sent.length) this.forget(sent);
  }

  /**
   * Deletes sent rows in batches, a few times a second: under load one DELETE (one commit) serves
   * hundreds of changes instead of each paying its own. The sweep only takes rows older than that.
   */
  private forget(ids: string[]): void {
    this.unforgotten.push(...ids);
    this.forgetter ??= setTimeout(() => {
      this.forgetter = undefined;
      this.track(this.deleteSent());
    }, FORGET_EVERY_MS);
  }

  private async deleteSent(): Promise<void> {
    while (this.unforgotten.length) {
      const batch = this.unforgotten.splice(0, SWEEP_BATCH);
      try {
        await outboxRepository.delete(autocommit(this.ds), batch);
      } catch (err) {
        this.logger.warn('sent outbox rows not deleted (they are sent again, harmlessly)', err);
      }
    }
  }
}
