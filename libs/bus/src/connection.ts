import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface BusConnectionConfig {
  /** nats://[user:password@]host:port — credentials may also come from user/password. */
  url: string;
  user?: string;
  password?: string;
  /** Connection name shown by the NATS server (monitoring, logs). */
  name: string;
}

export interface NatsConnectOptions {
  servers: string;
  name: string;
  user?: string;
  pass?: string;
  inboxPrefix: string;
  maxReconnectAttempts: number;
  reconnectTimeWait: number;
  waitOnFirstConnect: boolean;
  noAsyncTraces: boolean;
}

/**
 * Options shared by our own connections and NestJS's: each user gets its own inbox prefix
 * (_INBOX.<user>) so NATS permissions can keep one component from reading another's replies.
 */
export function natsOptions(cfg: BusConnectionConfig): NatsConnectOptions {
  const url = new URL(cfg.url);
  const user = cfg.user ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const pass = cfg.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  return {
    servers: `${url.protocol}//${url.host}`,
    name: cfg.name,
    ...(user ? { user, pass } : {}),
    inboxPrefix: inboxPrefixFor(user),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    // Otherwise every request allocates an Error with a stack trace up front (measured: ~15% of
    // the gateway's CPU per call). Our errors carry the subject, which is what a reader needs.
    noAsyncTraces: true,
  };
}

export function inboxPrefixFor(user: string | undefined): string {
  return user ? `_INBOX.${user}` : '_INBOX';
}

export async function connectBus(cfg: BusConnectionConfig): Promise<NatsConnection> {
  const nc = await connect(natsOptions(cfg));
  followLink(nc);
  return nc;
}

const linkDown = new WeakSet<NatsConnection>();

/** Follows a connection's status, so that requests can fail at once while it is reconnecting. */
function followLink(nc: NatsConnection): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') linkDown.add(nc);
      else if (s.type === 'reconnect') linkDown.delete(nc);
    }
  })().catch(() => undefined);
}

/** True while a connection made by connectBus has lost its server and is reconnecting. */
export function isLinkDown(nc: NatsConnection): boolean {
  return linkDown.has(nc);
}
