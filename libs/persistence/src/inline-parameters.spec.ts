import { inlineParameters } from './inline-parameters.js';

describe('inlineParameters', () => {
  it('writes each $n as its literal, $10 as the tenth', () => {
    const params = Array.from({ length: 10 }, (_, i) => `v${i + 1}`);
    expect(inlineParameters('select $1, $10, $2', params)).toBe("select 'v1', 'v10', 'v2'");
  });

  it('converts values as pg converts parameters', () => {
    const at = new Date('2026-12-07T01:02:03.004Z');
    const out = inlineParameters('values ($1, $2, $3, $4, $5, $6, $7, $8)', [
      "it's",
      'back\\slash',
      42,
      true,
      null,
      ['a', 'b"c'],
      { labels: { rack: "r'7" } },
      Buffer.from([1, 255]),
    ]);
    expect(out).toBe(
      `values ('it''s',  E'back\\\\slash', '42', 'true', NULL,  E'{"a","b\\\\"c"}', '{"labels":{"rack":"r''7"}}', E'\\\\x01ff')`,
    );
    expect(inlineParameters('select $1', [at])).toMatch(
      /^select '2026-12-0[67]T\d\d:\d\d:03\.004[+-]\d\d:\d\d'$/,
    );
  });

  it('leaves $n alone inside strings, identifiers, dollar quotes and comments', () => {
    const sql = [
      `select 'a $1 ''$1''', "col$1", $$ $1 $$, $tag$ $1 $tag$, E'\\' $1', $1 -- $1`,
      `/* $1 */ from t where x = $2`,
    ].join('\n');
    expect(inlineParameters(sql, ['one', 'two'])).toBe(
      [
        `select 'a $1 ''$1''', "col$1", $$ $1 $$, $tag$ $1 $tag$, E'\\' $1', 'one' -- $1`,
        `/* $1 */ from t where x = 'two'`,
      ].join('\n'),
    );
  });

  it('refuses what cannot travel as text: a NUL, a placeholder without a value', () => {
    expect(inlineParameters('select $1', ['a\u0000b'])).toBeUndefined();
    expect(inlineParameters('select $1', [{ s: 'a\u0000b' }])).toBe(
      `select  E'{"s":"a\\\\u0000b"}'`,
    );
    expect(inlineParameters('select $2', ['a'])).toBeUndefined();
  });

  it('closes no literal early whatever a value holds', () => {
    const hostile = "x'); DROP TABLE hosts; --\\'";
    const out = inlineParameters('update t set d = $1 where id = $2', [hostile, 'id'])!;
    expect(out).toBe(`update t set d =  E'x''); DROP TABLE hosts; --\\\\''' where id = 'id'`);
  });
});
