import { decode } from '@nats-io/jwt';
import { fromPublic } from '@nats-io/nkeys';
import { agentPermissions } from './nats-auth.js';
import {
  accountJwt,
  createNatsAuthority,
  credsAuthenticator,
  credsUserName,
  isUserPublicKey,
  newUserKey,
  userCreds,
  userJwt,
} from './nats-jwt.js';

describe('NATS JWT credentials', () => {
  it('signs the server nonce so that the user public key verifies it', async () => {
    const a = await createNatsAuthority();
    const creds = await userCreds(a, 'agent-h1', agentPermissions('h1'));
    expect(credsUserName(creds)).toBe('agent-h1');
    const auth = credsAuthenticator(creds) as (nonce?: string) => {
      jwt: string;
      nkey: string;
      sig: string;
    };
    const { jwt, nkey, sig } = auth('a-nonce-from-the-server');
    expect(decode(jwt).sub).toBe(nkey);
    const ok = fromPublic(nkey).verify(
      new TextEncoder().encode('a-nonce-from-the-server'),
      Buffer.from(sig, 'base64'),
    );
    expect(ok).toBe(true);
  });

  it("issues an enrolling host's JWT for its own key, with its agent permissions", async () => {
    const a = await createNatsAuthority();
    const key = newUserKey();
    const claims = decode<{ pub: { allow: string[] }; issuer_account: string }>(
      await userJwt(a, 'agent-h2', agentPermissions('h2'), key.publicKey),
    );
    expect(claims.sub).toBe(key.publicKey);
    expect(claims.nats.issuer_account).toBe(a.account.publicKey);
    expect(claims.nats.pub?.allow).toEqual(agentPermissions('h2').publish);
  });

  it('lists revoked keys in the account JWT and checks user keys with their checksum', async () => {
    const a = await createNatsAuthority();
    const key = newUserKey().publicKey;
    const claims = decode<{ revocations: Record<string, number> }>(
      await accountJwt(a, { [key]: 1_700_000_000 }),
    );
    expect(claims.nats.revocations).toEqual({ [key]: 1_700_000_000 });
    expect(isUserPublicKey(key)).toBe(true);
    expect(isUserPublicKey(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'))).toBe(false);
    expect(isUserPublicKey(a.account.publicKey)).toBe(false);
  });
});
