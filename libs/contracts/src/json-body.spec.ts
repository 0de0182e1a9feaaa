import { MAX_BODY_DEPTH, nestingDepth, parseJsonBody } from './json-body.js';

const json = (text: string, type: string | undefined = 'application/json') =>
  parseJsonBody(Buffer.from(text), type);

describe('request bodies', () => {
  it('takes a JSON object; no body is {}', () => {
    expect(json('{"a":[1,{"b":2}]}')).toEqual({ a: [1, { b: 2 }] });
    expect(json('', undefined)).toEqual({});
    expect(json('{"a":1}', 'application/json; charset=utf-8')).toEqual({ a: 1 });
    expect(json('{"a":1}', undefined)).toEqual({ a: 1 });
  });

  it('refuses other content types (415), non-objects and malformed JSON (400 naming body)', () => {
    expect(() => json('a=1', 'application/x-www-form-urlencoded')).toThrow(
      expect.objectContaining({ code: 'unsupported_media_type' }),
    );
    for (const text of ['[]', 'null', '"x"', '7', '{"a":'])
      expect(() => json(text)).toThrow(
        expect.objectContaining({
          code: 'invalid_argument',
          details: [expect.objectContaining({ field: 'body' })],
        }),
      );
  });

  it('measures nesting without being fooled by brackets or escaped quotes in strings', () => {
    expect(nestingDepth('{"a":"[[[{{{","b":"\\"]]]"}')).toBe(1);
    expect(nestingDepth('[[{"a":[1]}]]')).toBe(4);
    const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    expect(json(deep(MAX_BODY_DEPTH))).toBeDefined();
    expect(() => json(deep(MAX_BODY_DEPTH + 1))).toThrow('nested deeper');
    expect(() => json(deep(100_000))).toThrow('nested deeper');
  });

  it('refuses more than 1 MiB with 413', () => {
    expect(() => json(`{"a":"${'x'.repeat(1 << 20)}"}`)).toThrow(
      expect.objectContaining({ code: 'payload_too_large' }),
    );
  });
});
