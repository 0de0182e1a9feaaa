import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { followEvents, NATS_CONNECTION } from '@qnet/bus';
import { Subjects, TUNNEL_DRIVER, type DecisionPush, type EventEnvelope } from '@qnet/contracts';
import { isSubjectToken } from '@qnet/netaddr';
import { DesiredStateChanges } from '@qnet/service';
import { TunnelRepository, type DecisionRow } from './tunnel.repository.js';

/** A durable consumer shared by every controller instance: no decision is missed while it is down. */
export const DECISION_FEED_CONSUMER = 'device-controller-decisions';

/** Most decisions applied in one change (a router's failover moves all its endpoints at once). */
const BATCH = 500;

const routerId = (v: unknown) => (v === '' ? null : isSubjectToken(v) ? v : undefined);

/** A decision event's data as the row it becomes, or undefined when it is malformed. */
function decisionRow(data: Partial<DecisionPush> | undefined): DecisionRow | undefined {
  const primary = routerId(data?.optimal_router_id);
  const backup = routerId(data?.backup_router_id);
  if (
    !isSubjectToken(data?.endpoint_id) ||
    primary === undefined ||
    backup === undefined ||
    typeof data?.timestamp !== 'number'
  )
    return undefined;
  return {
    endpoint_id: data.endpoint_id,
    primary_router_id: primary,
    backup_router_id: backup,
    decided_at: data.timestamp,
  };
}

/**
 * The tunnels follow the balancer's decisions: its `decision.changed` events arrive through a
 * durable JetStream consumer (in order, at least once; an older decision never overwrites a newer
 * one) and each batch is one desired-state change: the endpoints and the routers they leave and
 * join get new states, pushed to their agents after the commit; then the batch is acknowledged.
 */
@Injectable()
export class DecisionFeedService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('DecisionFeed');
  private messages?: ConsumerMessages;
  private done?: Promise<void>;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly changes: DesiredStateChanges,
    private readonly repo: TunnelRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const messages = (this.messages = await followEvents(
      this.nc,
      DECISION_FEED_CONSUMER,
      Subjects.event('tunnel', 'decision', 'changed'),
      2 * BATCH,
    ));
    this.done = (async () => {
      let batch: JsMsg[] = [];
      for await (const m of messages) {
        batch.push(m);
        // What has arrived meanwhile goes in the same change.
        if (messages.getPending() > 0 && batch.length < BATCH) continue;
        await this.flush(batch);
        batch = [];
      }
    })();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.messages?.close();
    await this.done;
  }

  private async flush(batch: JsMsg[]): Promise<void> {
    const rows: DecisionRow[] = [];
    const taken: JsMsg[] = [];
    for (const m of batch) {
      let row: DecisionRow | undefined;
      try {
        row = decisionRow(m.json<EventEnvelope<Partial<DecisionPush>>>().data);
      } catch {
        row = undefined;
      }
      if (!row) {
        this.logger.warn(`dropping malformed decision event ${m.subject}`);
        m.term();
        continue;
      }
      rows.push(row);
      taken.push(m);
    }
    try {
      await this.apply(rows);
      taken.forEach((m) => m.ack());
    } catch (err) {
      this.logger.warn(`${rows.length} decision(s) not applied, redelivering`, err);
      taken.forEach((m) => m.nak(1_000));
    }
  }

  /** Stores the newest decision of each endpoint and renders every host it concerns. */
  apply(rows: DecisionRow[]): Promise<void> {
    const newest = new Map<string, DecisionRow>();
    for (const r of rows)
      if ((newest.get(r.endpoint_id)?.decided_at ?? -Infinity) <= r.decided_at)
        newest.set(r.endpoint_id, r);
    if (!newest.size) return Promise.resolve();
    return this.changes.run(async (tx, touch) => {
      const before = await this.repo.decisions(tx, [...newest.keys()], { lock: true });
      const saved = await this.repo.saveDecisions(tx, [...newest.values()]);
      const concerned = [
        ...before.filter((b) => saved.some((s) => s.endpoint_id === b.endpoint_id)),
        ...saved,
      ]
        .flatMap((d) => [d.endpoint_id, d.primary_router_id, d.backup_router_id])
        .filter((id): id is string => id !== null);
      const hosts = await this.repo.keyedDevices(tx, concerned);
      await touch.hosts(hosts.map((host_id) => ({ host_id, driver: TUNNEL_DRIVER })));
      return { result: undefined };
    });
  }
}
