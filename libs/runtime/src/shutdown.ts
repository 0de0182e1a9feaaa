import type { Logger } from 'pino';

/**
 * SIGTERM/SIGINT → graceful close (drain the bus, finish in-flight work, close pools) → exit 0.
 * A second signal, or a close that takes longer than `graceMs`, exits at once with 1. Install it
 * first thing: until it is, a signal kills the process undrained.
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
  // Under the launcher (npm start) a terminal's Ctrl-C reaches this process too; the launcher
  // then stops every app in order with SIGTERM, so SIGINT here must not start a second shutdown.
  if (process.env.QNET_SUPERVISED === '1')
    process.on('SIGINT', () => logger.debug('SIGINT: the launcher stops this process'));
  else process.on('SIGINT', onSignal);
}
