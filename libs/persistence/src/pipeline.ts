import { createRequire } from 'node:module';
import pg from 'pg';

/** A compiled statement: its text with `$n` placeholders and their values. */
export interface Statement {
  text: string;
  values: readonly unknown[];
  /** Prepared once per connection and its plan reused (see `prepared` in query.ts). */
  prepare?: boolean;
}

/** pg's own conversion of a parameter to its wire form (dates, arrays, objects, buffers). */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils') as {
  prepareValue(value: unknown): string | Buffer | null;
};

/**
 * A process names at most this many statement texts, which bounds what each of its connections
 * keeps on the server; beyond it statements run unnamed (parsed and planned each time).
 */
const MAX_NAMED = 256;
const names = new Map<string, string>();

function nameOf(s: Statement): string {
  if (!s.prepare) return '';
  let name = names.get(s.text);
  if (name === undefined && names.size < MAX_NAMED)
    names.set(s.text, (name = `qnet_${names.size}`));
  return name ?? '';
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
 * to the Sync, so a statement after a failed one never runs. A prepared statement is parsed on a
 * connection the first time it runs there.
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
      const name = nameOf(s);
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
