import {
  createInbox,
  headers as natsHeaders,
  type Msg,
  type NatsConnection,
} from '@nats-io/transport-node';

/** A message for a JetStream stream; the stream stores an id once within its duplicate window. */
export interface StreamMessage {
  /** The message id (Nats-Msg-Id). */
  id: string;
  subject: string;
  payload: string;
}

/**
 * Publishes to JetStream and collects the streams' acknowledgements on one inbox subscription of
 * its own. This is what `jetstream(nc).publish()` does for one message, without its request
 * machinery per message (a mux entry, a timer, a promise and, in nats.js, an `Error` built for each
 * successful request): the outbox relays an event with every change.
 */
export class StreamPublisher {
  private readonly inbox: string;
  private readonly waiting = new Map<string, (ack: Msg) => void>();
  private sequence = 0;

  constructor(private readonly nc: NatsConnection) {
    // The connection's own inbox prefix (_INBOX.<user>): its permissions let it hear only there.
    const prefix = (nc as NatsConnection & { options: { inboxPrefix?: string } }).options
      .inboxPrefix;
    this.inbox = createInbox(prefix);
    nc.subscribe(`${this.inbox}.*`, { callback: (_err, msg) => this.acknowledged(msg) });
  }

  /**
   * Resolves once a stream has stored every message (an id it had already counts as stored);
   * rejects with the first refusal, or when not all were acknowledged within `timeoutMs`.
   */
  async publish(messages: readonly StreamMessage[], timeoutMs: number): Promise<void> {
    const tokens: string[] = [];
    const stored = Promise.all(
      messages.map(
        (m) =>
          new Promise<void>((resolve, reject) => {
            const token = String(this.sequence++);
            tokens.push(token);
            this.waiting.set(token, (ack) => {
              const refused = refusalOf(ack, m.subject);
              if (refused) reject(refused);
              else resolve();
            });
            const h = natsHeaders();
            h.set('Nats-Msg-Id', m.id);
            this.nc.publish(m.subject, m.payload, { reply: `${this.inbox}.${token}`, headers: h });
          }),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not every message was acknowledged within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([stored, late]);
    } finally {
      clearTimeout(timer);
      for (const t of tokens) this.waiting.delete(t);
    }
  }

  private acknowledged(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length + 1);
    const settle = this.waiting.get(token);
    this.waiting.delete(token);
    settle?.(msg);
  }
}

/** Why an acknowledgement is not one: no stream took the subject, or the stream's error. */
function refusalOf(msg: Msg, subject: string): Error | undefined {
  if (msg.data.length === 0 && msg.headers?.code === 503)
    return new Error(`no stream stores ${subject}`);
  try {
    const ack = msg.json<{ stream?: string; error?: { description?: string } }>();
    if (ack.stream && !ack.error) return undefined;
    return new Error(`the stream refused ${subject}: ${ack.error?.description ?? 'no ack'}`);
  } catch {
    return new Error('malformed stream acknowledgement');
  }
}
