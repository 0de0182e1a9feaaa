import type { Server } from 'node:http';

/**
 * Starts `server` on host:port. A port already taken (another QuantumNet on this machine, say) is
 * an error naming the variable that sets it, so the operator knows what to change.
 */
export function listenOn(
  server: Server,
  host: string,
  port: number,
  portVariable: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `${host}:${port} is already in use (another QuantumNet on this machine?): set ${portVariable} to a free port, or 0 to turn this listener off`,
            )
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
}
