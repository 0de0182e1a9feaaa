/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const MAX_IFNAME_LENGTH = 15;

const IFNAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

/**
 * A name the kernel accepts and that is safe to pass to ip(8), bridge(8) and config files:
 * 1–15 characters of [A-Za-z0-9_.-], not starting with "." or "-", and not "." or "..".
 */
export function isInterfaceName(name: unknown): name is string {
  return typeof name === 'string' && IFNAME_RE.test(name) && name !== '.' && name !== '..';
}

/** A safe identifier for NATS subject tokens and resource names: no dots, wildcards or spaces. */
const TOKEN_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export function isSubjectToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_RE.test(value);
}
