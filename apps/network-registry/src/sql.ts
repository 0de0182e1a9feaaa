/** Escapes LIKE wildcards in user text used as a substring search. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
