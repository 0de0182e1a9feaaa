import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';

/** apps/console/dist, next to this app's dist in the repository and in the image. */
export const CONSOLE_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../console/dist',
);

/**
 * The web console (apps/console, built by `npm run build`) at `/`, from the gateway's own port:
 * its files carry no data (every read is an API call with the user's token), so they need none.
 * Hashed assets are cached for good, index.html never. The API, /docs and /metrics are unchanged.
 */
export function serveConsole(app: NestExpressApplication, logger: Logger, dir = CONSOLE_DIR): void {
  if (!existsSync(path.join(dir, 'index.html'))) {
    logger.warn(`no console at ${dir} (npm run build makes it): / serves nothing`);
    return;
  }
  app.useStaticAssets(dir, {
    index: 'index.html',
    redirect: false,
    setHeaders: (res, file) =>
      res.setHeader(
        'Cache-Control',
        file.includes(`${path.sep}assets${path.sep}`)
          ? 'public, max-age=31536000, immutable'
          : 'no-cache',
      ),
  });
}
