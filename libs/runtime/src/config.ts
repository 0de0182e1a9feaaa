/**
 * Environment validated once at start into a typed config object. Each app declares a spec;
 * the same spec documents the variable (README configuration reference, compose-file test).
 */
export interface EnvVar<T> {
  readonly kind: 'string' | 'int' | 'number' | 'bool' | 'enum';
  readonly description: string;
  readonly secret?: boolean;
  readonly default?: T;
  readonly required?: boolean;
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
}

export type ConfigSpec<T> = { [K in keyof T]: EnvVar<T[K]> & { name: string } };

/** The config object a spec produces: `ConfigOf<typeof gatewayConfigSpec>`. */
export type ConfigOf<S> = { [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never };

type Opts<T> = Omit<EnvVar<T>, 'kind'>;

export const env = {
  string: (name: string, o: Opts<string>): EnvVar<string> & { name: string } => ({
    kind: 'string',
    name,
    ...o,
  }),
  optional: (
    name: string,
    o: Opts<string | undefined>,
  ): EnvVar<string | undefined> & { name: string } => ({
    kind: 'string',
    name,
    ...o,
  }),
  int: (name: string, o: Opts<number>): EnvVar<number> & { name: string } => ({
    kind: 'int',
    name,
    ...o,
  }),
  number: (name: string, o: Opts<number>): EnvVar<number> & { name: string } => ({
    kind: 'number',
    name,
    ...o,
  }),
  bool: (name: string, o: Opts<boolean>): EnvVar<boolean> & { name: string } => ({
    kind: 'bool',
    name,
    ...o,
  }),
  oneOf: <C extends string>(
    name: string,
    choices: readonly C[],
    o: Opts<C>,
  ): EnvVar<C> & { name: string } => ({
    kind: 'enum',
    name,
    choices,
    ...o,
  }),
};

export class ConfigError extends Error {}

export function loadConfig<T>(spec: ConfigSpec<T>, source: NodeJS.ProcessEnv = process.env): T {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, v] of Object.entries(spec) as [string, EnvVar<unknown> & { name: string }][]) {
    const raw = source[v.name];
    if (raw === undefined || raw === '') {
      if (v.required && v.default === undefined)
        problems.push(`${v.name} is required (${v.description})`);
      out[key] = v.default;
      continue;
    }
    const parsed = parseValue(v, raw);
    if (typeof parsed === 'object' && parsed && 'error' in parsed)
      problems.push(`${v.name}: ${parsed.error}`);
    else out[key] = parsed;
  }
  if (problems.length) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return out as T;
}

function parseValue(v: EnvVar<unknown>, raw: string): unknown {
  switch (v.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(raw)) return { error: `"${raw}" is not an integer` };
      const n = Number(raw);
      if (v.min !== undefined && n < v.min) return { error: `must be >= ${v.min}` };
      if (v.max !== undefined && n > v.max) return { error: `must be <= ${v.max}` };
      return n;
    }
    case 'number': {
      if (!/^-?\d+(\.\d+)?$/.test(raw)) return { error: `"${raw}" is not a number` };
      const n = Number(raw);
      if (v.min !== undefined && n < v.min) return { error: `must be >= ${v.min}` };
      if (v.max !== undefined && n > v.max) return { error: `must be <= ${v.max}` };
      return n;
    }
    case 'bool':
      if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
      if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
      return { error: `"${raw}" is not a boolean` };
    case 'enum':
      return v.choices!.includes(raw) ? raw : { error: `must be one of ${v.choices!.join(', ')}` };
    default:
      if (v.pattern && !v.pattern.test(raw)) return { error: `does not match ${v.pattern}` };
      return raw;
  }
}

/** The config as it may be logged: secrets replaced by "[redacted]". */
export function redactedConfig<T>(spec: ConfigSpec<T>, config: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(spec) as [string, EnvVar<unknown>][]) {
    const value = (config as Record<string, unknown>)[key];
    out[key] = v.secret && value !== undefined ? '[redacted]' : redactUrl(value);
  }
  return out;
}

/** Strips a password from a URL-like value (nats://user:pw@host, postgres://user:pw@host/db). */
export function redactUrl(value: unknown): unknown {
  if (typeof value !== 'string' || !value.includes('://')) return value;
  return value.replace(/(\/\/[^:/@]+):[^@]*@/g, '$1:[redacted]@');
}
