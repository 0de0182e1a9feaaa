import { connect } from '@nats-io/transport-node';
import { natsServers } from './connection.js';
import { accountJwt, credsAuthenticator, systemCreds, type NatsAuthority } from './nats-jwt.js';

/**
 * Sends the account's JWT with these revocations to the servers at `url` as a system user; a
 * cluster's servers pass it on to each other, and each keeps it in its resolver directory.
 */
export async function pushAccountJwt(
  url: string,
  a: NatsAuthority,
  revocations: Record<string, number>,
  timeoutMs = 5_000,
): Promise<void> {
  const nc = await connect({
    servers: natsServers(url),
    authenticator: credsAuthenticator(await systemCreds(a)),
    timeout: timeoutMs,
    name: 'qnet-system',
  });
  try {
    const reply = await nc.request(
      `$SYS.REQ.ACCOUNT.${a.account.publicKey}.CLAIMS.UPDATE`,
      await accountJwt(a, revocations),
      { timeout: timeoutMs },
    );
    const answer = reply.json<{
      data?: { code?: number; message?: string };
      error?: { description?: string };
    }>();
    if (answer.data?.code !== 200)
      throw new Error(
        `NATS refused the account update: ${answer.error?.description ?? answer.data?.message ?? reply.string()}`,
      );
  } finally {
    await nc.close();
  }
}
