import path from 'node:path';
import { execa } from 'execa';

// The row types the repositories compile against are what the migrations produce: a migration
// without `npm run db:types` (or a hand edit of a generated file) fails here.
test('the checked-in row types match a fresh migration run', async () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const res = await execa(process.execPath, ['scripts/db-types.mjs', '--check'], {
    cwd: root,
    reject: false,
  });
  expect({ exitCode: res.exitCode, stderr: res.stderr }).toEqual({ exitCode: 0, stderr: '' });
}, 120_000);
