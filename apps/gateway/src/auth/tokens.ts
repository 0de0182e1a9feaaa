import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export interface ApiToken {
  project: string;
  digest: Buffer;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** "<project>:<token>,…" → tokens kept only as digests. */
export function parseApiTokens(spec: string | undefined): ApiToken[] {
  if (!spec) return [];
  return spec.split(',').map((pair, i) => {
    const at = pair.indexOf(':');
    const project = pair.slice(0, at).trim();
    const token = pair.slice(at + 1).trim();
    if (at <= 0 || token.length < 16 || !/^(\*|[A-Za-z0-9][A-Za-z0-9_-]{0,62})$/.test(project)) {
      throw new Error(
        `QNET_API_TOKENS entry ${i + 1}: expected <project>:<token> with a token of at least 16 characters`,
      );
    }
    return { project, digest: digest(token) };
  });
}

/** Constant-time lookup of a presented bearer token. */
export function findToken(tokens: ApiToken[], presented: string): ApiToken | undefined {
  const d = digest(presented);
  let found: ApiToken | undefined;
  for (const t of tokens) if (timingSafeEqual(t.digest, d)) found = t;
  return found;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

export type AuthMode = 'required' | 'off';

/** Resolves GATEWAY_AUTH against the listen address; refuses an open API on a non-loopback address. */
export function resolveAuthMode(
  setting: 'auto' | 'required' | 'off',
  host: string,
  tokens: ApiToken[],
): AuthMode {
  const mode: AuthMode = setting === 'auto' ? (isLoopback(host) ? 'off' : 'required') : setting;
  if (mode === 'off' && !isLoopback(host)) {
    throw new Error(
      `GATEWAY_AUTH=off is refused on ${host}: authentication is required on a non-loopback address`,
    );
  }
  if (mode === 'required' && tokens.length === 0) {
    throw new Error('authentication is required but QNET_API_TOKENS has no tokens');
  }
  return mode;
}
