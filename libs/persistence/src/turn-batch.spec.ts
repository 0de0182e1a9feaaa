import { readsTogether, TurnBatch } from './turn-batch.js';

describe('TurnBatch', () => {
  const rows = new Map([
    ['a', { id: 'a', n: 1 }],
    ['b', { id: 'b', n: 2 }],
  ]);
  const reader = () => {
    const statements: string[][] = [];
    const reads = readsTogether(
      async (keys: string[]) => {
        statements.push(keys);
        return keys.flatMap((k) => (rows.has(k) ? [rows.get(k)!] : []));
      },
      (r) => r.id,
    );
    return { reads, statements };
  };

  it('reads the keys of one turn in one statement, each caller getting its own row', async () => {
    const { reads, statements } = reader();
    const got = await Promise.all(['a', 'b', 'a', 'none'].map((k) => reads.add(k)));
    expect(got).toEqual([rows.get('a'), rows.get('b'), rows.get('a'), undefined]);
    expect(statements).toEqual([['a', 'b', 'none']]);
  });

  it('reads a later turn in a statement of its own', async () => {
    const { reads, statements } = reader();
    await reads.add('a');
    await new Promise((r) => setImmediate(r));
    await reads.add('b');
    expect(statements).toEqual([['a'], ['b']]);
  });

  it('fails every caller of a statement that fails, and reads again afterwards', async () => {
    let fail = true;
    const reads = new TurnBatch(async (keys: string[]) => {
      if (fail) throw new Error('connection lost');
      return keys.map((id) => ({ id }));
    });
    const both = ['a', 'b'].map((k) => reads.add(k));
    await expect(both[0]).rejects.toThrow('connection lost');
    await expect(both[1]).rejects.toThrow('connection lost');
    fail = false;
    await expect(reads.add('c')).resolves.toEqual({ id: 'c' });
  });
});
