import type { Logger } from 'pino';

/**
 * SIGTERM/SIGINT → graceful close (drain the bus, finish in-flight work, close pools) → exit 0.
 * A second signal, or a close that takes longer than `graceMs`, exits at once with 1.
 */
export function exitOnSignals(close: () => Promise<void>, logger: Logger, graceMs = 20_000): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    closing = true;
    logger.info(`${signal}: shutting down`);
    setTimeout(() => {
      logger.error(`shutdown took longer than ${graceMs} ms: exiting`);
      process.exit(1);
    }, graceMs).unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
