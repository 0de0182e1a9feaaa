import { BadRequestException } from '@nestjs/common';
import { QnetError } from '@qnet/contracts';
import { normalizeError } from './errors.js';
import { decodeReply, encodeJson } from './codec.js';
import { PlainJsonSerializer } from './transport.js';

describe('one error shape', () => {
  it('keeps QnetErrors as they are', () => {
    expect(normalizeError(QnetError.invalid('vlan_id', 'must be 1-4094'))).toEqual({
      code: 'invalid_argument',
      message: 'vlan_id: must be 1-4094',
      details: [{ field: 'vlan_id', message: 'must be 1-4094' }],
    });
  });

  it('says a lost database is unavailable (503, naming the service), not an internal error', () => {
    for (const err of [
      Object.assign(new Error('terminating connection due to administrator command'), {
        code: '57P01',
      }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('not accepting connections'), { code: '55000', severity: 'FATAL' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ])
      expect(normalizeError(err, undefined, 'registry')).toEqual({
        code: 'unavailable',
        message: "the registry's database is unavailable; retry",
      });
    expect(normalizeError(Object.assign(new Error('x'), { code: '55000' })).code).toBe('internal');
  });

  it('maps PostgreSQL constraint violations to conflicts, never to internal errors', () => {
    const unique = Object.assign(new Error('dup'), {
      driverError: { code: '23505', constraint: 'networks_name_key' },
    });
    expect(normalizeError(unique)).toEqual({
      code: 'already_exists',
      message: 'conflicts with an existing resource (networks_name_key)',
    });
    expect(normalizeError(Object.assign(new Error('x'), { code: '23P01' })).code).toBe(
      'already_exists',
    );
  });

  it('hides unexpected errors behind "internal error"', () => {
    expect(normalizeError(new Error('secret stack detail'))).toEqual({
      code: 'internal',
      message: 'internal error',
    });
    expect(normalizeError(new BadRequestException('nope')).code).toBe('invalid_argument');
  });

  it('round-trips replies as plain JSON documents', () => {
    const s = new PlainJsonSerializer();
    const ok = s.serialize({ response: { a: 1 } });
    expect(JSON.parse(ok.data)).toEqual({ data: { a: 1 } });
    expect(decodeReply(encodeJson(JSON.parse(ok.data)))).toEqual({ a: 1 });
    const bad = s.serialize({ err: new QnetError('not_found', 'host h1 not found') });
    expect(() => decodeReply(encodeJson(JSON.parse(bad.data)))).toThrow('host h1 not found');
    expect(JSON.parse(s.serialize({ err: new Error('boom') }).data)).toEqual({
      error: { code: 'internal', message: 'internal error' },
    });
  });
});
