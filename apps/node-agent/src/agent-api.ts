import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import http from 'node:http';
import { NATS_CONNECTION, requestAgent, validatePayload } from '@qnet/bus';
import {
  AgentCalls,
  AgentNetCreateRequest,
  AgentNetDeleteRequest,
  ERROR_HTTP_STATUS,
  parseJsonBody,
  QnetError,
  readRequestBody,
} from '@qnet/contracts';
import type { Executor } from '@qnet/drivers';
import { sendJson } from '@qnet/runtime';
import type { AgentConfig } from './config.js';
import type { AgentIdentity } from './identity.js';
import { AGENT_CONFIG, AGENT_IDENTITY, EXECUTOR } from './tokens.js';

/** How long a call waits for the agent's own desired-state path to build or remove the TAP. */
const SETTLE_MS = 5_000;

/** `AGENT_HTTP_LISTEN`: `[address:]port`, loopback unless an address is given. */
export function listenAddress(value: string): { host: string; port: number } {
  const [, host = '127.0.0.1', port] = /^(?:(.+):)?(\d{1,5})$/.exec(value) ?? [];
  return { host, port: Number(port) };
}

/**
 * Seed 003's agent API (`POST /agent/v1/net/create`, `POST /agent/v1/net/delete`), off unless
 * AGENT_HTTP_LISTEN is set. It is not a side door: each call goes to the registry as this host
 * (the NIC is recorded there, the bridge's network registered if it has none), and the TAP is
 * built or removed by the normal desired-state path; the call answers once the kernel shows it
 * (201 / 200), or 202 when that takes longer than 5 s (or the agent runs in dry-run).
 */
@Injectable()
export class AgentApi implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AgentApi');
  private server?: http.Server;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(AGENT_IDENTITY) private readonly id: AgentIdentity,
    @Inject(AGENT_CONFIG) private readonly config: AgentConfig,
    @Inject(EXECUTOR) private readonly exec: Executor,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.httpListen) return;
    const { host, port } = listenAddress(this.config.httpListen);
    const server = http.createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    this.server = server;
    this.logger.log(`agent API on http://${host}:${port}/agent/v1/net/{create,delete}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => sendJson(res, status, body);
    try {
      const route = ROUTES[req.url ?? ''];
      if (!route) throw new QnetError('not_found', `no route ${req.url}`);
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        return reply(405, { code: 'invalid_argument', message: `${req.method}: use POST` });
      }
      const body = parseJsonBody(await readRequestBody(req), req.headers['content-type']);
      const [status, result] = await route.call(this, body);
      reply(status, result);
    } catch (err) {
      const e = err instanceof QnetError ? err : new QnetError('internal', 'internal error');
      if (e.code === 'internal') this.logger.error(err);
      reply(ERROR_HTTP_STATUS[e.code], e.toBody());
    }
  }

  async create(body: unknown): Promise<[number, unknown]> {
    const req = await validatePayload(AgentNetCreateRequest, body);
    const nic = await requestAgent(this.nc, AgentCalls.netCreate, this.id.hostId, req);
    return [(await this.settled(req.tap, true)) ? 201 : 202, nic];
  }

  async delete(body: unknown): Promise<[number, unknown]> {
    const req = await validatePayload(AgentNetDeleteRequest, body);
    await requestAgent(this.nc, AgentCalls.netDelete, this.id.hostId, req);
    return [(await this.settled(req.tap, false)) ? 200 : 202, {}];
  }

  /** Whether the TAP came to exist (or went) within SETTLE_MS, as the kernel says. */
  private async settled(tap: string, present: boolean): Promise<boolean> {
    if (this.exec.mode !== 'real') return false;
    const until = Date.now() + SETTLE_MS;
    while (Date.now() < until) {
      const exists = await this.exec.read(['ip', 'link', 'show', 'dev', tap]).then(
        () => true,
        () => false,
      );
      if (exists === present) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return false;
  }
}

const ROUTES: Record<string, (this: AgentApi, body: unknown) => Promise<[number, unknown]>> = {
  '/agent/v1/net/create': AgentApi.prototype.create,
  '/agent/v1/net/delete': AgentApi.prototype.delete,
};
