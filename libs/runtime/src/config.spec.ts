import { env, loadConfig, redactedConfig, redactUrl } from './config.js';

const spec = {
  natsUrl: env.string('NATS_URL', { description: 'NATS server', default: 'nats://127.0.0.1:4222' }),
  port: env.int('PORT', { description: 'HTTP port', default: 8080, min: 1, max: 65535 }),
  dryRun: env.bool('DRY_RUN', { description: 'record instead of execute', default: false }),
  mode: env.oneOf('MODE', ['a', 'b'] as const, { description: 'mode', default: 'a' }),
  key: env.optional('MASTER_KEY', { description: 'master key', secret: true }),
};

describe('loadConfig', () => {
  it('applies defaults and parses typed values', () => {
    const c = loadConfig(spec, { PORT: '9000', DRY_RUN: 'yes', MODE: 'b' });
    expect(c).toEqual({
      natsUrl: 'nats://127.0.0.1:4222',
      port: 9000,
      dryRun: true,
      mode: 'b',
      key: undefined,
    });
  });
  it('reports every problem with the variable name', () => {
    expect(() => loadConfig(spec, { PORT: '70000', DRY_RUN: 'maybe', MODE: 'c' })).toThrow(
      /PORT: must be <= 65535\n {2}DRY_RUN: "maybe" is not a boolean\n {2}MODE: must be one of a, b/,
    );
  });
  it('redacts secrets and URL passwords', () => {
    const c = loadConfig(spec, { MASTER_KEY: 'hunter2', NATS_URL: 'nats://gw:pw@127.0.0.1:4222' });
    expect(redactedConfig(spec, c)).toMatchObject({
      key: '[redacted]',
      natsUrl: 'nats://gw:[redacted]@127.0.0.1:4222',
    });
    expect(redactUrl('postgres://u:p@h/db')).toBe('postgres://u:[redacted]@h/db');
  });
});
