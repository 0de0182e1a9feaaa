import { ServerNats, type ConsumerDeserializer, type Serializer } from '@nestjs/microservices';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { isErrorBody, QnetError, type ErrorBody } from '@qnet/contracts';
import type { ReplyBody } from './codec.js';

/**
 * Incoming bus messages are plain JSON documents (not NestJS envelopes), so any NATS client —
 * the gateway, an agent, `nats req` — can call a service. A message with a reply subject is a
 * request; one without is an event.
 */
export class PlainJsonDeserializer implements ConsumerDeserializer {
  deserialize(
    msg: Msg,
    options?: { channel?: string },
  ): { pattern: string; data: unknown; id?: string } {
    let data: unknown = {};
    if (msg.data.length) {
      try {
        data = msg.json();
      } catch {
        data = { __malformed: true };
      }
    }
    return {
      pattern: options?.channel ?? msg.subject,
      data,
      ...(msg.reply ? { id: randomUUID() } : {}),
    };
  }
}

/** Outgoing replies: {"data": …} or {"error": {code, message, details}}. */
export class PlainJsonSerializer implements Serializer {
  serialize(packet: { response?: unknown; err?: unknown }): { data: string; headers?: undefined } {
    const body: ReplyBody<unknown> =
      packet.err !== undefined && packet.err !== null
        ? { error: toErrorBody(packet.err) }
        : { data: packet.response ?? null };
    return { data: JSON.stringify(body) };
  }
}

export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof QnetError) return err.toBody();
  if (isErrorBody(err)) return err;
  return { code: 'internal', message: 'internal error' };
}

/**
 * NestJS's NATS server on a connection we own: one connection per process for RPC handlers,
 * events and requests. Every subscription joins the service's queue group. On shutdown the
 * connection is drained: in-flight handlers finish, their replies are flushed.
 */
export class BusServer extends ServerNats {
  private inflight = 0;
  private onIdle: (() => void) | undefined;

  constructor(
    private readonly nc: NatsConnection,
    queue: string,
  ) {
    super({
      queue,
      serializer: new PlainJsonSerializer(),
      deserializer: new PlainJsonDeserializer(),
    });
  }

  override async createNatsClient(): Promise<NatsConnection> {
    return this.nc;
  }

  override async handleMessage(channel: string, msg: Msg): Promise<unknown> {
    this.inflight++;
    try {
      return await super.handleMessage(channel, msg);
    } finally {
      // The reply is sent on the next tick after the handler settles.
      setImmediate(() => {
        if (--this.inflight === 0) this.onIdle?.();
      });
    }
  }

  override async close(): Promise<void> {
    // ServerNats keeps its subscriptions private; stop them before draining the connection.
    for (const sub of (this as unknown as { subscriptions: { unsubscribe(): void }[] })
      .subscriptions)
      sub.unsubscribe();
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
    if (!this.nc.isClosed() && !this.nc.isDraining()) await this.nc.drain();
  }
}
