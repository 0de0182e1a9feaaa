import { endOfTurn } from './end-of-turn.js';

describe('endOfTurn', () => {
  it('is one moment for every caller of a turn, after its I/O callbacks, and a new one after', async () => {
    const order: string[] = [];
    const first = endOfTurn();
    expect(endOfTurn()).toBe(first);
    void first.then(() => order.push('end of turn'));
    await new Promise<void>((resolve) =>
      process.nextTick(() => {
        order.push('tick');
        resolve();
      }),
    );
    await first;
    expect(order).toEqual(['tick', 'end of turn']);
    const next = endOfTurn();
    expect(next).not.toBe(first);
    await next;
  });
});
