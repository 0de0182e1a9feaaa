import { connect, type Authenticator, type NatsConnection } from '@nats-io/transport-node';
import { readFileSync, readlinkSync } from 'node:fs';
import type { Logger } from 'pino';
import { credsAuthenticator, credsUserName } from './nats-jwt.js';

export interface BusConnectionConfig {
  /** nats://[user:password@]host:port, or several comma-separated (a cluster). */
  url: string;
  /** A NATS credentials file (user JWT and seed): this component's identity. */
  credsFile?: string;
  /** Connection name shown by the NATS server (monitoring, logs). */
  name: string;
}

export interface NatsConnectOptions {
  servers: string[];
  name: string;
  user?: string;
  pass?: string;
  authenticator?: Authenticator;
  inboxPrefix: string;
  maxReconnectAttempts: number;
  reconnectTimeWait: number;
  waitOnFirstConnect: boolean;
  noAsyncTraces: boolean;
}

/** The servers of a NATS_URL: one URL, or a cluster's comma-separated (credentials stripped). */
export function natsServers(url: string): string[] {
  return url.split(',').map((u) => {
    const parsed = new URL(u.trim());
    return `${parsed.protocol}//${parsed.host}`;
  });
}

/**
 * Options shared by our own connections and NestJS's: each user gets its own inbox prefix
 * (_INBOX.<user>) so NATS permissions can keep one component from reading another's replies.
 */
export function natsOptions(cfg: BusConnectionConfig): NatsConnectOptions {
  // A cluster is several URLs, comma-separated; credentials may ride on the first.
  const url = new URL(cfg.url.split(',')[0]!.trim());
  const creds = cfg.credsFile ? readFileSync(cfg.credsFile, 'utf8') : undefined;
  const user = creds
    ? credsUserName(creds)
    : url.username
      ? decodeURIComponent(url.username)
      : undefined;
  const auth = creds
    ? { authenticator: credsAuthenticator(creds) }
    : user
      ? { user, pass: decodeURIComponent(url.password) }
      : {};
  return {
    servers: natsServers(cfg.url),
    name: cfg.name,
    ...auth,
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

/**
 * Connects, waiting for the server as long as it takes — and saying so every few seconds, with
 * the likely reason when it is one (loopback seen from inside a network namespace).
 */
export async function connectBus(
  cfg: BusConnectionConfig,
  logger?: Logger,
  warnEveryMs = 5_000,
): Promise<NatsConnection> {
  const opts = natsOptions(cfg);
  const started = Date.now();
  const waiting = setInterval(() => {
    const s = Math.round((Date.now() - started) / 1000);
    logger?.warn(
      `cannot reach NATS at ${opts.servers.join(', ')} after ${s} s; still trying${unreachableHint(opts.servers[0]!)}`,
    );
  }, warnEveryMs);
  try {
    const nc = await connect(opts);
    followLink(nc);
    return nc;
  } finally {
    clearInterval(waiting);
  }
}

/** Why a loopback server may be out of reach: this process is in another network namespace. */
function unreachableHint(server: string): string {
  const host = new URL(server).hostname;
  if (!/^(127\.|localhost$|\[::1\]$)/.test(host)) return '';
  try {
    if (readlinkSync('/proc/self/ns/net') === readlinkSync('/proc/1/ns/net')) return '';
  } catch {
    return '';
  }
  return ` — this process runs in a network namespace of its own, where ${host} is that namespace's loopback, not the host's: set NATS_URL to an address reachable from inside it`;
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
