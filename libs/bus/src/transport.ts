import {
  ServerNats,
  type BaseRpcContext,
  type ConsumerDeserializer,
  type ReadPacket,
  type Serializer,
} from '@nestjs/microservices';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { isObservable, lastValueFrom } from 'rxjs';
import { randomUUID } from 'node:crypto';
import { isErrorBody, QnetError, type ErrorBody } from '@qnet/contracts';
import { endOfTurn, runWithContext } from '@qnet/runtime';
import type { ReplyBody } from './codec.js';
import { contextFromHeaders } from './context.js';
import { methodLabel, replyCode, rpcMetrics } from './metrics.js';

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
    /** Requests handled at once; one more is refused (503, retry) before any work is done. */
    private readonly maxInflight = Number.POSITIVE_INFINITY,
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

  /**
   * Our patterns are subjects. The base class first tries each message's pattern as JSON, which
   * throws (a SyntaxError with its stack) for every subject.
   */
  override getRouteFromPattern(pattern: string): string {
    return pattern.startsWith('{') ? super.getRouteFromPattern(pattern) : pattern;
  }

  override async handleMessage(channel: string, msg: Msg): Promise<unknown> {
    if (msg.reply && this.inflight >= this.maxInflight) {
      const error = new QnetError(
        'unavailable',
        `busy: ${this.inflight} requests in progress; nothing was done, retry`,
      );
      msg.respond(JSON.stringify({ error: error.toBody() } satisfies ReplyBody<unknown>));
      return;
    }
    this.inflight++;
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      if (--this.inflight === 0) this.onIdle?.();
    };
    if (msg.reply) replyAtEndOfTurn(msg, done);
    try {
      return await runWithContext(contextFromHeaders(msg.headers), () =>
        super.handleMessage(channel, msg),
      );
    } finally {
      // A request is done once its reply has gone out, at the end of the turn in which its handler
      // settled (the reply is sent right after the handler); an event, at once.
      if (msg.reply) void endOfTurn().then(() => setImmediate(done));
      else done();
    }
  }

  /**
   * An event handler runs to its end before the message counts as handled. The base class starts
   * its stream and returns at once, so close() could end the database pool under a handler that
   * was still writing (an agent's status report arriving during shutdown).
   */
  override async handleEvent(
    pattern: string,
    packet: ReadPacket,
    context: BaseRpcContext,
  ): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) return super.handleEvent(pattern, packet, context);
    const result = await handler(packet.data, context);
    // Its errors were logged by the exception filter; an event has nobody to answer.
    if (isObservable(result))
      await lastValueFrom(result, { defaultValue: undefined }).catch(() => {});
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

/**
 * Sends the reply with the other messages of its turn (endOfTurn), then calls `sent`; counts and
 * times the request by what its reply says.
 */
function replyAtEndOfTurn(msg: Msg, sent: () => void): void {
  const started = process.hrtime.bigint();
  const respond = msg.respond.bind(msg);
  let measured = false;
  msg.respond = (data, opts) => {
    if (!measured) {
      measured = true;
      const method = methodLabel(msg.subject);
      rpcMetrics.requests.inc({ method, code: replyCode(data) });
      rpcMetrics.duration.observe({ method }, Number(process.hrtime.bigint() - started) / 1e9);
    }
    void endOfTurn()
      .then(() => respond(data, opts))
      // Nobody is left to tell when the connection closed meanwhile: the caller times out.
      .catch(() => undefined)
      .finally(sent);
    return true;
  };
}
