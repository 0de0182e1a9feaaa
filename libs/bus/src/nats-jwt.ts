import {
  decode,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  type Account,
  type User,
} from '@nats-io/jwt';
import {
  createAccount,
  createOperator,
  createUser,
  fromPublic,
  fromSeed,
  type KeyPair,
} from '@nats-io/nkeys';
import type { Authenticator } from '@nats-io/transport-node';
import { createPrivateKey, sign } from 'node:crypto';
import type { NatsPermissions } from './nats-auth.js';

/**
 * The keys behind a deployment's NATS trust (decentralized JWT auth): an operator, its system
 * account and the one account every QuantumNet component lives in. Whoever holds this file can
 * mint any component's credentials, so it is written 0600 and given only to the stack launcher
 * and the registry (which enrolls and revokes hosts).
 */
export interface NatsAuthority {
  operator: { seed: string; jwt: string };
  /** Signs account JWTs, so the operator's own key is needed only to make the authority. */
  operatorSigningSeed: string;
  system: { seed: string; jwt: string };
  /** The account's JWT as first issued (no revocations): what a server preloads. */
  account: { publicKey: string; jwt: string };
  /** Signs user JWTs: components' and enrolled hosts'. */
  accountSigningSeed: string;
}

const seedOf = (kp: KeyPair) => new TextDecoder().decode(kp.getSeed());
const keyOf = (seed: string) => fromSeed(new TextEncoder().encode(seed));

/** Unlimited, JetStream on: QuantumNet's own account limits nothing but permissions. */
const UNLIMITED = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
} as const;
/** A user limited by its permissions only. */
const UNLIMITED_USER = { subs: -1, data: -1, payload: -1 } as const;
const JETSTREAM = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } as const;

export const NATS_ACCOUNT = 'QNET';

export async function createNatsAuthority(): Promise<NatsAuthority> {
  const operator = createOperator();
  const operatorSigning = createOperator();
  const system = createAccount();
  const account = createAccount();
  const accountSigning = createAccount();
  const authority: NatsAuthority = {
    operator: {
      seed: seedOf(operator),
      jwt: await encodeOperator('qnet', operator, {
        signing_keys: [operatorSigning.getPublicKey()],
        system_account: system.getPublicKey(),
      }),
    },
    operatorSigningSeed: seedOf(operatorSigning),
    system: {
      seed: seedOf(system),
      jwt: await encodeAccount('SYS', system, { limits: UNLIMITED }, { signer: operatorSigning }),
    },
    account: { publicKey: account.getPublicKey(), jwt: '' },
    accountSigningSeed: seedOf(accountSigning),
  };
  authority.account.jwt = await accountJwt(authority, {});
  return authority;
}

/**
 * The account's JWT with these users revoked (user public key → unix seconds: credentials issued
 * at or before it are refused, and their live connections closed, once a server has it).
 */
export function accountJwt(a: NatsAuthority, revocations: Record<string, number>): Promise<string> {
  const claims: Partial<Account> = {
    limits: { ...UNLIMITED, ...JETSTREAM },
    signing_keys: [keyOf(a.accountSigningSeed).getPublicKey()],
    ...(Object.keys(revocations).length ? { revocations } : {}),
  };
  return encodeAccount(NATS_ACCOUNT, fromPublic(a.account.publicKey), claims, {
    signer: keyOf(a.operatorSigningSeed),
  });
}

function userClaims(p: NatsPermissions): Partial<User> {
  return {
    ...UNLIMITED_USER,
    pub: { allow: p.publish },
    sub: { allow: p.subscribe },
    // Like allow_responses: a request's receiver may answer on its reply subject, once.
    resp: { max: 1, ttl: 0 },
  };
}

/** A user JWT for a public key whose seed stays with its owner (an enrolling host). */
export function userJwt(
  a: NatsAuthority,
  name: string,
  permissions: NatsPermissions,
  publicKey: string,
): Promise<string> {
  return encodeUser(name, fromPublic(publicKey), keyOf(a.accountSigningSeed), {
    ...userClaims(permissions),
    issuer_account: a.account.publicKey,
  });
}

/** A credentials file's text (JWT and seed) for a new user of the account. */
export async function userCreds(
  a: NatsAuthority,
  name: string,
  permissions: NatsPermissions,
): Promise<string> {
  const user = createUser();
  return credsText(await userJwt(a, name, permissions, user.getPublicKey()), user);
}

/** A user of the system account: pushes account updates (revocations) to the servers. */
export async function systemCreds(a: NatsAuthority): Promise<string> {
  const user = createUser();
  const jwt = await encodeUser('qnet-system', user, keyOf(a.system.seed), UNLIMITED_USER);
  return credsText(jwt, user);
}

function credsText(jwt: string, user: KeyPair): string {
  return new TextDecoder().decode(fmtCreds(jwt, user));
}

/** A new user key pair for a host that enrolls: the seed never leaves it. */
export function newUserKey(): { publicKey: string; seed: string } {
  const user = createUser();
  return { publicKey: user.getPublicKey(), seed: seedOf(user) };
}

export function credsFromSeed(jwt: string, seed: string): string {
  return credsText(jwt, keyOf(seed));
}

function parseCreds(creds: string): { jwt: string; seed: string } {
  const jwt = /-----BEGIN NATS USER JWT-----\s*(\S+?)\s*------END/.exec(creds)?.[1];
  const seed = /-----BEGIN USER NKEY SEED-----\s*(\S+?)\s*------END/.exec(creds)?.[1];
  if (!jwt || !seed) throw new Error('not a NATS credentials file (a user JWT and its seed)');
  return { jwt, seed };
}

/** The user name a credentials file's JWT carries (its component: "gateway", "agent-h1", …). */
export function credsUserName(creds: string): string {
  return decode(parseCreds(creds).jwt).name;
}

/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Answers the server's nonce with the user's JWT and an Ed25519 signature made by node's own
 * crypto. The client library's authenticator signs in JavaScript, deriving the key from the seed
 * each time: ~25 ms per connect here, enough for a loaded machine to miss the server's
 * authentication timeout.
 */
export function credsAuthenticator(creds: string): Authenticator {
  const { jwt, seed } = parseCreds(creds);
  const kp = keyOf(seed);
  const raw = (kp as KeyPair & { getRawSeed(): Uint8Array }).getRawSeed();
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, raw]),
    format: 'der',
    type: 'pkcs8',
  });
  const nkey = kp.getPublicKey();
  return (nonce) => ({
    jwt,
    nkey,
    sig: nonce ? sign(null, Buffer.from(nonce), key).toString('base64') : '',
  });
}

/** A valid user public key ("U…", base32, with checksum)? */
export function isUserPublicKey(key: string): boolean {
  try {
    return key.startsWith('U') && fromPublic(key).getPublicKey() === key;
  } catch {
    return false;
  }
}
