import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { credsFromSeed, newUserKey } from '@qnet/bus';
import type { JoinHostResponse } from '@qnet/contracts';
import type { AgentConfig } from './config.js';

/** Where an enrolled agent keeps its NATS credentials (0600), so a restart needs no token. */
export const enrolledCredsFile = (c: AgentConfig) => path.join(c.stateDir, 'nats.creds');

/**
 * The credentials file the agent connects with: NATS_CREDS when given, else the one an earlier
 * enrollment kept, else a new one from enrolling with QNET_JOIN_TOKEN — the agent makes its own
 * key pair and sends only the public key; the registry answers a JWT signed for this host.
 * Undefined: no credentials (a server without auth, or the URL's user and password).
 */
export async function agentCredentials(
  c: AgentConfig,
  hostId: string,
  logger: Logger,
): Promise<string | undefined> {
  if (c.natsCreds) return c.natsCreds;
  const file = enrolledCredsFile(c);
  if (existsSync(file)) return file;
  if (!c.joinToken) return undefined;
  if (!c.joinUrl)
    throw new Error('QNET_JOIN_TOKEN needs QNET_JOIN_URL: the gateway to enroll through');
  const key = newUserKey();
  const url = `${c.joinUrl.replace(/\/$/, '')}/v1/hosts/join`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: c.joinToken, host_id: hostId, public_key: key.publicKey }),
    signal: AbortSignal.timeout(15_000),
  }).catch((err: Error) => {
    throw new Error(`cannot reach ${url} to enroll: ${err.message}`);
  });
  const body = (await res.json().catch(() => ({}))) as JoinHostResponse & { message?: string };
  if (!res.ok)
    throw new Error(`enrollment refused (${res.status}): ${body.message ?? res.statusText}`);
  mkdirSync(c.stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, credsFromSeed(body.jwt, key.seed), { mode: 0o600 });
  logger.info({ host: body.host_id, creds: file }, 'enrolled: NATS credentials kept');
  return file;
}
