import { findToken, isLoopback, parseApiTokens, resolveAuthMode } from './tokens.js';

describe('API tokens', () => {
  const tokens = parseApiTokens('default:0123456789abcdef-a, *:0123456789abcdef-admin');

  it('finds tokens by value and keeps their project scope', () => {
    expect(findToken(tokens, '0123456789abcdef-a')?.project).toBe('default');
    expect(findToken(tokens, '0123456789abcdef-admin')?.project).toBe('*');
    expect(findToken(tokens, 'nope')).toBeUndefined();
  });

  it('rejects short tokens and malformed entries, naming the entry', () => {
    expect(() => parseApiTokens('default:short')).toThrow('entry 1');
    expect(() => parseApiTokens('x:0123456789abcdef,bad entry')).toThrow('entry 2');
    expect(parseApiTokens(undefined)).toEqual([]);
  });

  it('requires auth off loopback and refuses to run open there', () => {
    expect(resolveAuthMode('auto', '127.0.0.1', [])).toBe('off');
    expect(() => resolveAuthMode('auto', '0.0.0.0', [])).toThrow('no tokens');
    expect(resolveAuthMode('auto', '0.0.0.0', tokens)).toBe('required');
    expect(() => resolveAuthMode('off', '10.1.2.3', tokens)).toThrow('non-loopback');
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('127.0.0.9')).toBe(true);
    expect(isLoopback('192.168.1.1')).toBe(false);
  });
});
