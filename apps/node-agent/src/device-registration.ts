import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  signRequest,
  type DeviceType,
  type RegisterDeviceRequest,
  type RegisteredDeviceView,
} from '@qnet/contracts';
import type { AgentConfig } from './config.js';
import type { AgentIdentity } from './identity.js';
import { AGENT_CONFIG, AGENT_IDENTITY, TUNNEL_IDENTITY } from './tokens.js';
import { keepPsk, type TunnelIdentity } from './tunnel-identity.js';

/** The seed 004 role of this host, if it has one. */
export function deviceTypeOf(c: AgentConfig): DeviceType | undefined {
  return c.routingServer ? 'routing_server' : c.tunnelEndpoint ? 'endpoint' : undefined;
}

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A routing server or endpoint registers with the device controller as the seed's devices do: a
 * signed `POST /register` with its public key and the address its tunnels are reached at. The
 * first registration is signed with the bootstrap PSK and answers the device's own PSK, kept
 * (0600) to sign the later ones. Retried with backoff until answered; registering again changes
 * nothing but a changed key or address.
 */
@Injectable()
export class DeviceRegistrationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('DeviceRegistration');
  private readonly stop = new AbortController();
  private done?: Promise<void>;

  constructor(
    @Inject(AGENT_CONFIG) private readonly config: AgentConfig,
    @Inject(AGENT_IDENTITY) private readonly id: AgentIdentity,
    @Inject(TUNNEL_IDENTITY) private identity: TunnelIdentity | undefined,
  ) {}

  onApplicationBootstrap(): void {
    const type = deviceTypeOf(this.config);
    if (type && this.identity) this.done = this.registerUntilDone(type);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stop.abort();
    await this.done;
  }

  private async registerUntilDone(type: DeviceType): Promise<void> {
    for (let delay = 1_000; !this.stop.signal.aborted; delay = Math.min(delay * 2, 30_000)) {
      try {
        const device = await this.register(type);
        this.logger.log(
          `registered with the device controller as ${type} ${device.device_id} (tunnel addresses ${device.tun_ipv4}, ${device.tun_ipv6})`,
        );
        return;
      } catch (err) {
        // A device the controller no longer knows by its PSK (deleted, another controller) registers anew.
        if (err instanceof Refused && err.status === 401 && this.identity?.psk) {
          this.logger.warn(
            `the controller refused this device's PSK: registering with the bootstrap PSK`,
          );
          this.identity = { ...this.identity, psk: undefined };
          delay = 1_000;
        } else
          this.logger.warn(
            `registering with the device controller failed, retrying: ${(err as Error).message}`,
          );
      }
      // A signature is refused if repeated, so attempts are at least a second apart.
      await new Promise((r) => setTimeout(r, delay).unref());
    }
  }

  private async register(type: DeviceType): Promise<RegisteredDeviceView> {
    const identity = this.identity!;
    const psk = identity.psk ?? this.config.deviceBootstrapPsk;
    if (!psk)
      throw new Error('no PSK to sign with: set DEVICE_BOOTSTRAP_PSK for the first registration');
    const address =
      type === 'routing_server'
        ? (this.config.routingExternalIp ?? this.id.underlayIp)
        : this.id.underlayIp;
    const req: RegisterDeviceRequest = {
      device_id: this.id.hostId,
      type,
      name: this.config.deviceName ?? this.config.routingServerName ?? this.id.hostname,
      addresses: [address],
      public_key: identity.public_key,
    };
    const body = JSON.stringify(req);
    const res = await fetch(`${this.config.deviceControllerUrl.replace(/\/$/, '')}/register`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signRequest(psk, {
          method: 'POST',
          path: '/register',
          body,
          ...(identity.psk ? { deviceId: this.id.hostId } : {}),
        }),
      },
      body,
      signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(10_000)]),
    });
    const answer = (await res.json().catch(() => ({}))) as RegisteredDeviceView & {
      message?: string;
    };
    if (!res.ok) throw new Refused(res.status, `${res.status} ${answer.message ?? res.statusText}`);
    if (answer.psk) this.identity = await keepPsk(this.config.stateDir, identity, answer.psk);
    return answer;
  }
}
