interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Calls that arrive in the same turn of the event loop run as one: `run` gets their items in
 * order and returns one result per item. Under load one statement (one socket write each way,
 * ~0.3 ms of CPU on a busy loopback host) then serves many requests. A call waits for nothing but
 * the end of the turn it arrived in, so it sees the database as of after its arrival; when the
 * statement fails, every call of it fails.
 */
export class TurnBatch<I, R> {
  private waiting: Waiting<I, R>[] = [];

  constructor(private readonly run: (items: I[]) => Promise<R[]>) {}

  add(item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      if (!this.waiting.length) setImmediate(() => void this.flush());
      this.waiting.push({ item, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    try {
      const results = await this.run(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}

/** Point reads by key in turns: each key is read once, and each caller gets its key's row. */
export function readsTogether<K, V>(
  load: (keys: K[]) => Promise<V[]>,
  keyOf: (row: V) => K,
): TurnBatch<K, V | undefined> {
  return new TurnBatch(async (keys) => {
    const found = new Map((await load([...new Set(keys)])).map((row) => [keyOf(row), row]));
    return keys.map((k) => found.get(k));
  });
}
