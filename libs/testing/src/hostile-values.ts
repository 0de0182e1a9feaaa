/**
 * Hostile values for the fuzz tier, by the type of the valid value they replace: wrong types,
 * out-of-range numbers, oversized and control-character strings, wrong shapes. Deterministic for a
 * seed, so a failure can be replayed with QNET_FUZZ_SEED.
 */

export interface Hostile {
  /** Short description for reports, e.g. `2^32` or `10k string`. */
  kind: string;
  value: unknown;
}

/** mulberry32: a small seeded PRNG, good enough to pick test values. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = [
  'a',
  'Z',
  '0',
  ' ',
  '-',
  '/',
  '.',
  '%',
  '$',
  '"',
  "'",
  ';',
  '\\',
  '\n',
  '\t',
  '\u0001',
  '\u007f',
  'é',
  'ß',
  '中',
  '\u202e',
  '\ud83d\ude00',
];

function randomString(rand: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return s;
}

const WRONG_SHAPES: Hostile[] = [
  { kind: 'null', value: null },
  { kind: 'object', value: { nested: { x: 1 } } },
  { kind: 'array', value: [1, 'two', null] },
  { kind: 'boolean', value: true },
];

const STRINGS: Hostile[] = [
  { kind: 'number', value: 7 },
  { kind: 'empty string', value: '' },
  { kind: 'blank string', value: '   ' },
  { kind: '10k string', value: 'a'.repeat(10_000) },
  { kind: 'NUL byte', value: 'a\u0000b' },
  { kind: 'control characters', value: 'a\u0007\u001b[31mb' },
  { kind: 'shell metacharacters', value: 'x; rm -rf / #$(id)`id`' },
  { kind: 'SQL', value: "x' OR '1'='1'; DROP TABLE hosts; --" },
  { kind: 'path traversal', value: '../../../etc/passwd' },
  { kind: 'lone surrogate', value: 'a\ud800b' },
];

const NUMBERS: Hostile[] = [
  { kind: 'numeric string', value: '1' },
  { kind: '1e308', value: 1e308 },
  { kind: '-1e308', value: -1e308 },
  { kind: '2^32', value: 2 ** 32 },
  { kind: '2^63', value: 2 ** 63 },
  { kind: '-1', value: -1 },
  { kind: 'fraction', value: 0.5 },
];

/** Values that must never be accepted in place of `valid` (a string, number, array or object). */
export function hostileValuesFor(valid: unknown, rand: () => number): Hostile[] {
  const out: Hostile[] = [...WRONG_SHAPES.filter((h) => typeof h.value !== typeof valid)];
  if (typeof valid === 'string') {
    out.push(...STRINGS);
    out.push({ kind: 'random string', value: randomString(rand, 1 + Math.floor(rand() * 40)) });
  } else if (typeof valid === 'number') {
    out.push(...NUMBERS.filter((h) => h.value !== valid));
  } else if (Array.isArray(valid)) {
    out.push({ kind: 'string for array', value: 'x' });
    out.push({ kind: 'array of null', value: [null] });
    out.push({ kind: 'array of objects', value: [{ x: 1 }] });
    out.push({ kind: '10k-element array', value: Array(10_000).fill(valid[0] ?? 'x') });
  } else if (valid && typeof valid === 'object') {
    out.push({ kind: 'empty array for object', value: [] });
    out.push({ kind: 'string for object', value: 'x' });
  }
  return out;
}

/** The fields of a body to break one at a time: top-level ones and one level into objects. */
export function fieldPaths(body: Record<string, unknown>): string[][] {
  const paths: string[][] = [];
  for (const [key, value] of Object.entries(body)) {
    paths.push([key]);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const inner of Object.keys(value)) paths.push([key, inner]);
    }
  }
  return paths;
}

export function withField(
  body: Record<string, unknown>,
  path: string[],
  value: unknown,
): Record<string, unknown> {
  const [head, ...rest] = path as [string, ...string[]];
  if (!rest.length) return { ...body, [head]: value };
  return { ...body, [head]: withField(body[head] as Record<string, unknown>, rest, value) };
}

export function valueAt(body: Record<string, unknown>, path: string[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], body);
}

/** A JSON text nested `depth` levels deep (objects or arrays). */
export function deeplyNested(depth: number, kind: 'object' | 'array'): string {
  return kind === 'object'
    ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
    : '['.repeat(depth) + '1' + ']'.repeat(depth);
}
