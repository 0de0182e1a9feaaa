/**
 * Tests create and drop databases: refuse any database whose name does not say it is for tests
 * (Immich's guard), so a mistyped URL cannot wipe real data.
 */
export function assertTestDatabase(url: string): void {
  const name = new URL(url).pathname.replace(/^\//, '');
  if (!/(^|_)test(_|$)|^test/.test(name)) {
    throw new Error(`refusing to use database "${name}" for tests: its name must contain "test"`);
  }
}
