import { createRequire } from 'node:module';
import { quoteLiteral } from './quote-literal.js';

/** pg's own conversion of a parameter to its text form (dates, arrays, objects, buffers). */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils') as {
  prepareValue(value: unknown): string | Buffer | null;
};

/**
 * A compiled statement with its `$n` parameters written in as literals, for a message that carries
 * more than one statement (PostgreSQL's simple protocol takes no parameters). Each value is
 * converted as pg converts a parameter and quoted as pg's `escapeLiteral` quotes; an untyped
 * literal takes its type from where it stands, as an untyped parameter does. `$n` inside quoted
 * strings, quoted identifiers, dollar quotes and comments is left alone. Undefined when the
 * statement cannot travel as text: a value holding a NUL character (a simple-protocol message
 * is NUL-terminated), or a placeholder without a value.
 */
export function inlineParameters(sql: string, parameters: readonly unknown[]): string | undefined {
  const literals = parameters.map(literalOf);
  if (literals.some((l) => l.includes('\u0000'))) return undefined;
  let out = '';
  let from = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const end = skipQuoted(sql, i);
    if (end > i) {
      i = end;
      continue;
    }
    if (c === '$' && isDigit(sql.charCodeAt(i + 1))) {
      let j = i + 1;
      while (isDigit(sql.charCodeAt(j))) j++;
      const literal = literals[Number(sql.slice(i + 1, j)) - 1];
      if (literal === undefined) return undefined;
      out += sql.slice(from, i) + literal;
      from = i = j;
      continue;
    }
    i++;
  }
  return out + sql.slice(from);
}

function literalOf(value: unknown): string {
  const text = prepareValue(value);
  if (text === null) return 'NULL';
  if (Buffer.isBuffer(text)) return `E'\\\\x${text.toString('hex')}'`;
  return quoteLiteral(text);
}

const isDigit = (code: number) => code >= 48 && code <= 57;

/** The index after a quoted string, quoted identifier, dollar quote or comment at `i`; else `i`. */
function skipQuoted(sql: string, i: number): number {
  const c = sql[i]!;
  if (c === "'" || c === '"') {
    // E'…' strings escape with backslashes; the others only by doubling the quote.
    const backslashes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/\w/.test(sql[i - 2] ?? '');
    let j = i + 1;
    while (j < sql.length) {
      if (backslashes && sql[j] === '\\') j += 2;
      else if (sql[j] === c) {
        if (sql[j + 1] !== c) return j + 1;
        j += 2;
      } else j++;
    }
    return sql.length;
  }
  if (c === '-' && sql[i + 1] === '-') {
    const eol = sql.indexOf('\n', i);
    return eol < 0 ? sql.length : eol + 1;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const close = sql.indexOf('*/', i + 2);
    return close < 0 ? sql.length : close + 2;
  }
  if (c === '$') {
    const tag = /^\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$/.exec(sql.slice(i, i + 64))?.[0];
    if (tag && !/\w/.test(sql[i - 1] ?? '')) {
      const close = sql.indexOf(tag, i + tag.length);
      return close < 0 ? sql.length : close + tag.length;
    }
  }
  return i;
}
