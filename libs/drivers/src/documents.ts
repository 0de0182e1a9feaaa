import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** `qnet-doc-<pid>-XXXXXX`: whose document it is, so that a dead process's can be told apart. */
const PREFIX = 'qnet-doc-';
const OWNER = new RegExp(`^${PREFIX}(\\d+)-`);

/**
 * Runs `use` with `content` in a private 0600 file that exists only while it runs: for tools that
 * must open a path (`wg syncconf`), so that keys never go on a command line.
 */
export async function withDocument<T>(
  content: string,
  use: (file: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
  try {
    const file = path.join(dir, 'document');
    await writeFile(file, content, { mode: 0o600 });
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Removes the documents of processes that died while a command read one (an agent killed mid-
 * apply): they may hold private keys. Those of live processes, other agents' included, are theirs.
 * Returns how many were removed.
 */
export async function removeOrphanedDocuments(tmp = os.tmpdir()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(tmp)) {
    const pid = Number(OWNER.exec(name)?.[1]);
    if (!pid || isAlive(pid)) continue;
    await rm(path.join(tmp, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
