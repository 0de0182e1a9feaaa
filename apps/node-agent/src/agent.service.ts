import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  encodeJson,
  NATS_CONNECTION,
  QNET_VERSION,
  requestAgent,
  validatePayload,
} from '@qnet/bus';
import {
  AgentCalls,
  DesiredState,
  QnetError,
  Subjects,
  type ApplyResult,
  type Capability,
  type DriverStatus,
  type ReportMetricsRequest,
} from '@qnet/contracts';
import {
  probeCapabilities,
  uplinkCandidates,
  type Executor,
  type TunnelDriver,
} from '@qnet/drivers';
import type { AgentConfig } from './config.js';
import { storeDeviceConfig } from './device-config.js';
import type { ApplyHow, Runner } from './driver-runner.js';
import type { AgentIdentity } from './identity.js';
import { LoadSampler } from './routing-metrics.js';
import { AGENT_CONFIG, AGENT_IDENTITY, DRIVER_RUNNERS, EXECUTOR, TUNNEL } from './tokens.js';
import { agentMetrics } from './agent-metrics.js';

/**
 * The agent's life: register, heartbeat, obey its own command subjects, pull full desired state
 * on start / reconnect / every resync period, and report what it applied.
 */
@Injectable()
export class AgentService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Agent');
  private readonly startedAt = Date.now();
  private capabilities: Capability[] = [];
  private timers: NodeJS.Timeout[] = [];
  private commands?: Subscription;
  private registered = false;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(AGENT_IDENTITY) private readonly id: AgentIdentity,
    @Inject(AGENT_CONFIG) private readonly config: AgentConfig,
    @Inject(EXECUTOR) private readonly exec: Executor,
    @Inject(DRIVER_RUNNERS) private readonly runners: Map<string, Runner>,
    @Inject(TUNNEL) private readonly tunnel: TunnelDriver | undefined,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.capabilities = await probeCapabilities(this.exec, { ovnNbDb: this.config.ovnNbDb });
    this.logger.log(
      `host ${this.id.hostId} in ${this.id.mode} mode${this.id.netns ? ` (namespace ${this.id.netns})` : ''}` +
        `${this.id.mode === 'dry-run' ? ': commands are recorded, not executed' : ''}; capabilities: ${this.capabilities.join(', ') || 'none'}`,
    );
    for (const runner of this.runners.values())
      runner.onLiveChange = (report) => void this.reconcileLive(runner, report);
    this.commands = this.nc.subscribe(Subjects.agentCmdAll(this.id.hostId), {
      callback: (err, msg) => {
        if (!err) void this.onCommand(msg);
      },
    });
    await this.registerUntilAnswered();
    void this.pullAll();
    this.every(this.config.heartbeatMs, () => this.heartbeat());
    this.every(this.config.resyncMs, () => this.resync());
    this.every(this.config.statusMs, () => this.publishLiveStatus());
    if (this.config.routingServer) await this.startMetrics();
    void this.watchReconnects();
  }

  async onApplicationShutdown(): Promise<void> {
    this.timers.forEach(clearInterval);
    for (const runner of this.runners.values()) runner.stop();
    this.commands?.unsubscribe();
    if (!this.nc.isClosed()) await this.nc.drain();
  }

  /**
   * Runs `fn` every `ms`, skipping a tick while its previous run is still going: on a loaded
   * host a slow run must not be joined by the next (two metrics readings in flight at once
   * finished 51 ms apart and reported 238 Mbit/s for 10).
   */
  private every(ms: number, fn: () => Promise<void>): void {
    let running = false;
    const t = setInterval(() => {
      if (running) return;
      running = true;
      fn()
        .catch((err: unknown) => this.logger.warn('periodic task failed', err))
        .finally(() => (running = false));
    }, ms);
    this.timers.push(t);
  }

  /** At start the registry may still be coming up: retry with backoff, bounded by the heartbeat period. */
  private async registerUntilAnswered(): Promise<void> {
    for (let delay = 250; !this.registered && delay < this.config.heartbeatMs; delay *= 2) {
      await this.register();
      if (!this.registered) await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** Registration is retried until the registry answers; heartbeats re-register if it forgot us. */
  async register(): Promise<void> {
    try {
      const reply = await requestAgent(this.nc, AgentCalls.register, this.id.hostId, {
        host_id: this.id.hostId,
        hostname: this.id.hostname,
        underlay_ip: this.id.underlayIp,
        capabilities: this.capabilities,
        mode: this.id.mode,
        drivers: [...this.runners.keys()],
        agent_version: QNET_VERSION,
        ...(await this.interfaces()),
      });
      this.registered = true;
      this.logger.log(
        `registered with the registry (${reply.created ? 'new host' : 'known host'}, ${reply.health})`,
      );
    } catch (err) {
      this.registered = false;
      this.logger.warn('registration failed, retrying', err);
    }
  }

  async heartbeat(): Promise<void> {
    if (!this.registered) return this.register();
    try {
      const reply = await requestAgent(this.nc, AgentCalls.heartbeat, this.id.hostId, {
        host_id: this.id.hostId,
        capabilities: this.capabilities,
        uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
        applied: Object.fromEntries(
          [...this.runners].map(([name, r]) => [name, Math.max(r.appliedGeneration, 0)]),
        ),
        ...(await this.interfaces()),
      });
      if (!reply.known) {
        this.logger.warn('the registry does not know this host: registering again');
        await this.register();
      }
    } catch (err) {
      this.logger.warn('heartbeat failed', err);
    }
  }

  /**
   * Full desired state of every driver. After a start or an outage the owning services may come back
   * after us, so each pull is retried with backoff until answered (bounded by the resync period,
   * which takes over after that). Silence keeps the current state.
   */
  async pullAll(): Promise<void> {
    await Promise.all(
      [...this.runners.keys()].map(async (name) => {
        for (
          let delay = 250;
          !(await this.pull(name)) && delay < this.config.resyncMs;
          delay = Math.min(delay * 2, 5_000)
        ) {
          if (this.nc.isClosed() || this.nc.isDraining()) return;
          await new Promise((r) => setTimeout(r, delay));
        }
      }),
    );
  }

  private async pull(driver: string): Promise<boolean> {
    try {
      const state = await requestAgent(this.nc, AgentCalls.desired(driver), this.id.hostId, {
        host_id: this.id.hostId,
      });
      await this.applyAndReport(state);
      return true;
    } catch (err) {
      if (err instanceof QnetError && err.code === 'unavailable') return false;
      this.logger.warn(`pulling ${driver} desired state failed`, err);
      return false;
    }
  }

  /** Periodic resync: pull if the control plane answers, else re-apply the last desired state. */
  async resync(): Promise<void> {
    const timer = agentMetrics.resyncDuration.startTimer();
    for (const [name, runner] of this.runners) {
      if (await this.pull(name)) continue;
      const result = await runner.resync();
      if (result) this.report(result);
    }
    timer();
  }

  private async watchReconnects(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'reconnect') {
        this.logger.log('reconnected to NATS: pulling full desired state');
        await this.register();
        void this.pullAll();
      }
    }
  }

  private async onCommand(msg: Msg): Promise<void> {
    const verb = msg.subject.split('.').pop()!;
    const respond = (body: unknown) => msg.reply && msg.respond(encodeJson(body));
    try {
      if (verb === 'ping') {
        respond({ data: this.describe() });
        return;
      }
      if (verb === 'config') {
        respond({
          data: await storeDeviceConfig(this.config.stateDir, this.id.hostId, msg.json()),
        });
        return;
      }
      const runner = this.runners.get(verb);
      if (!runner) throw new QnetError('not_found', `this agent has no ${verb} driver`);
      const state = await readDesiredState(msg.json<unknown>());
      if (state.driver !== verb)
        throw QnetError.invalid('driver', `must be ${verb} on this subject`);
      const result = await this.applyAndReport(state, { delta: true });
      if (!result.ok) agentMetrics.commandFailures.inc({ driver: verb });
      respond({ data: result });
    } catch (err) {
      agentMetrics.commandFailures.inc({ driver: verb });
      const body =
        err instanceof QnetError
          ? err.toBody()
          : { code: 'invalid_argument', message: (err as Error).message };
      // A push has no one to answer: the log is the only place its failure shows.
      if (!msg.reply) this.logger.warn(`refused ${msg.subject}`, err);
      respond({ error: body });
    }
  }

  /** Routing-server role: the seed's metrics document on qnet.metrics.routing.<hostId>. */
  private async startMetrics(): Promise<void> {
    const sampler = new LoadSampler(this.exec, this.config.routingInterface, () =>
      this.tunnel ? this.tunnel.activeTunnels() : Promise.resolve(0),
    );
    await sampler.read(); // the first reading is the baseline of the first rates
    this.every(this.config.routingMetricsMs, async () => {
      const load = await sampler.read();
      const doc: ReportMetricsRequest = {
        server_id: this.id.hostId,
        server_name: this.config.routingServerName ?? this.id.hostname,
        timestamp: Date.now() / 1000,
        ...load,
        internal_ip: this.config.routingInternalIp ?? this.id.underlayIp,
        external_ip: this.config.routingExternalIp ?? this.id.underlayIp,
      };
      this.nc.publish(Subjects.metrics('routing', this.id.hostId), encodeJson(doc));
    });
  }

  private async applyAndReport(state: DesiredState, how?: ApplyHow): Promise<ApplyResult> {
    const runner = this.runners.get(state.driver);
    if (!runner) throw new QnetError('not_found', `this agent has no ${state.driver} driver`);
    const result = await runner.apply(state, how);
    if (result.superseded) return result;
    this.report(result);
    this.logApplied(result);
    return result;
  }

  private logApplied(result: ApplyResult, why = ''): void {
    const what = `${result.driver} generation ${result.generation}${why}`;
    if (!result.ok) this.logger.warn(`${what}: ${result.error}`);
    else if (result.changes.length)
      this.logger.log(
        `${what}: ${result.changes.length} change(s): ${result.changes
          .slice(0, 5)
          .map((c) => c.join(' '))
          .join('; ')}${result.changes.length > 5 ? '; …' : ''}`,
      );
  }

  /**
   * A driver's live observations changed (a member's health, connection counts, a tunnel's
   * verdict): reconcile its last desired state now, and when that changed the host — or the
   * driver asks to `report` — say so with its live status.
   */
  private async reconcileLive(runner: Runner, report: boolean): Promise<void> {
    const result = await runner.resync();
    if (!result || result.superseded || (result.ok && !result.changes.length && !report)) return;
    if (result.changes.length || !result.ok) this.report(result);
    this.logApplied(result, ' (live)');
    const status = await runner.status();
    if (status) this.report(status);
  }

  /** Read again with every heartbeat: an uplink plugged in later is known within one period. */
  private async interfaces(): Promise<{ interfaces?: string[] }> {
    const names = await uplinkCandidates(this.exec).catch((err: unknown) => {
      this.logger.warn('could not list the host interfaces', err);
      return undefined;
    });
    return names ? { interfaces: names } : {};
  }

  private async publishLiveStatus(): Promise<void> {
    for (const runner of this.runners.values()) {
      const status = await runner.status();
      if (status) this.report(status);
    }
  }

  private report(result: ApplyResult & { observed?: unknown }): void {
    const status: DriverStatus = {
      ...result,
      host_id: this.id.hostId,
      observed_at: new Date().toISOString(),
    };
    this.nc.publish(Subjects.agentStatus(this.id.hostId, result.driver), encodeJson(status));
  }

  private describe() {
    return {
      host_id: this.id.hostId,
      mode: this.id.mode,
      netns: this.id.netns,
      capabilities: this.capabilities,
      applied: Object.fromEntries(
        [...this.runners].map(([name, r]) => [name, r.appliedGeneration]),
      ),
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      version: QNET_VERSION,
    };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A pushed desired state: its envelope is validated here, its spec by the driver (Driver.parse reads
 * every field and names the one it refuses) — not walked twice, as it may name thousands of NICs.
 */
async function readDesiredState(body: unknown): Promise<DesiredState> {
  if (!isObject(body) || !isObject(body.spec)) return validatePayload(DesiredState, body);
  const state = await validatePayload(DesiredState, { ...body, spec: {} });
  return { ...state, spec: body.spec };
}
