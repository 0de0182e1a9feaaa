import { createRequire } from 'node:module';
import pg from 'pg';

/** A compiled statement: its text with `$n` placeholders and their values. */
export interface Statement {
  text: string;
  values: readonly unknown[];
}

/** pg's own conversion of a parameter to its wire form (dates, arrays, objects, buffers). */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils') as {
  prepareValue(value: unknown): string | Buffer | null;
};

/**
 * Statement texts become named prepared statements on their second use, so PostgreSQL parses and
 * plans them once per connection instead of once per call; a text seen once (a one-off shape such
 * as a long IN list) stays unnamed. A process names at most this many, which bounds what each of
 * its connections keeps on the server.
 */
const MAX_NAMED = 256;
/** Texts seen once, awaiting their second use (forgotten in bulk when this many accumulate). */
const MAX_SEEN = 4_096;

const names = new Map<string, string>();
const seenOnce = new Set<string>();

function nameOf(text: string): string | undefined {
  const name = names.get(text);
  if (name !== undefined || names.size >= MAX_NAMED) return name;
  if (!seenOnce.has(text)) {
    if (seenOnce.size >= MAX_SEEN) seenOnce.clear();
    seenOnce.add(text);
    return undefined;
  }
  seenOnce.delete(text);
  const named = `qnet_${names.size}`;
  names.set(text, named);
  return named;
}

/** What pg's Connection offers for writing protocol messages (not in its published types). */
interface Wire {
  parsedStatements: Record<string, string>;
  parse(m: { text: string; name: string; types: unknown[] }): void;
  bind(m: { statement: string; portal: string; values: (string | Buffer | null)[] }): void;
  describe(m: { type: 'P'; name: string }): void;
  execute(m: { portal: string; rows: number }): void;
  close(m: { type: 'S'; name: string }): void;
  sync(): void;
}

/** pg's Query, with the one method this class replaces. */
const PgQuery = pg.Query as unknown as new (config: {
  text: string;
  callback: (err: Error | null, results: pg.QueryResult | pg.QueryResult[]) => void;
}) => { prepare(connection: Wire): void; handleReadyForQuery(connection: Wire): void };

/**
 * Several statements in one message with one Sync (PostgreSQL's extended protocol), answered
 * together: a transaction's BEGIN with its first statement, its last statements with the COMMIT.
 * Without a BEGIN they are one implicit transaction. After an error the server skips the rest up
 * to the Sync, so a statement after a failed one never runs.
 */
class Pipeline extends PgQuery {
  /** Named statements this message parses: recorded on the connection once it succeeded. */
  private readonly parsing: [name: string, text: string][] = [];
  private readonly wireValues: (string | Buffer | null)[][];

  constructor(
    private readonly statements: readonly Statement[],
    callback: (err: Error | null, results: pg.QueryResult | pg.QueryResult[]) => void,
  ) {
    super({ text: statements[0]!.text, callback });
    // Converted before anything is written: a value pg cannot convert fails the call, not the wire.
    this.wireValues = statements.map((s) => s.values.map(prepareValue));
  }

  requiresPreparation(): boolean {
    return true;
  }

  override prepare(connection: Wire): void {
    this.statements.forEach((s, i) => {
      const name = nameOf(s.text) ?? '';
      if (!name || connection.parsedStatements[name] !== s.text) {
        // A Parse that an error left unconfirmed may exist: closing a missing one is no error.
        if (name) connection.close({ type: 'S', name });
        connection.parse({ text: s.text, name, types: [] });
        if (name) this.parsing.push([name, s.text]);
      }
      connection.bind({ statement: name, portal: '', values: this.wireValues[i]! });
      connection.describe({ type: 'P', name: '' });
      connection.execute({ portal: '', rows: 0 });
    });
    connection.sync();
  }

  override handleReadyForQuery(connection: Wire): void {
    for (const [name, text] of this.parsing) connection.parsedStatements[name] = text;
    super.handleReadyForQuery(connection);
  }
}

/**
 * Runs `statements` in one round trip on `client` and returns each one's result, in order. A
 * statement's error rejects the whole call.
 */
export function runPipeline(
  client: pg.ClientBase,
  statements: readonly Statement[],
): Promise<pg.QueryResult[]> {
  return new Promise((resolve, reject) => {
    let query: Pipeline;
    try {
      query = new Pipeline(statements, (err, results) =>
        err ? reject(err) : resolve(Array.isArray(results) ? results : [results]),
      );
    } catch (err) {
      reject(err);
      return;
    }
    // A submittable query is answered through its callback; pg returns the query object itself.
    void client.query(query as unknown as pg.QueryConfig);
  });
}
