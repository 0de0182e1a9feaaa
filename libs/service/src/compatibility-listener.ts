import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Server } from 'node:http';
import { closeHttpListener, startHttpListener, type HttpRoute } from './http-listener.js';

/**
 * A service's compatibility API (a seed's own paths and port), started and stopped with the
 * application. Port 0 turns it off.
 */
export abstract class CompatibilityListener
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private server?: Server;

  /** Where it listens, and the variable that sets the port (named when the port is taken). */
  protected abstract address(): { host: string; port: number; portVariable: string };
  protected abstract routes(): HttpRoute[];

  async onApplicationBootstrap(): Promise<void> {
    const { host, port, portVariable } = this.address();
    if (port)
      this.server = await startHttpListener({ host, port, portVariable, routes: this.routes() });
  }

  onApplicationShutdown(): Promise<void> {
    return closeHttpListener(this.server);
  }
}
