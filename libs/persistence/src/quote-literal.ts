/**
 * A string as an SQL literal, exactly as pg's `escapeLiteral` writes it (quotes doubled; with a
 * backslash, an E'' literal with backslashes doubled), in linear time: pg's builds the result one
 * character at a time, ~200 ms for the 1.4 MB outbox row of an evaluation round that moves
 * 10,000 decisions, all of it on the event loop.
 */
export function quoteLiteral(value: string): string {
  const quoted = value.replaceAll("'", "''");
  return value.includes('\\') ? ` E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}
