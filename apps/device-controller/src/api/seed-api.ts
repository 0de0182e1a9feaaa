import { Inject, Injectable } from '@nestjs/common';
import { validatePayload } from '@qnet/bus';
import {
  GetDeviceRequest,
  ListDevicesRequest,
  PushConfigRequest,
  QnetError,
  RegisterDeviceRequest,
  UpdateDeviceConfigRequest,
  UpdateDeviceStatusRequest,
} from '@qnet/contracts';
import {
  CompatibilityListener,
  healthRoute,
  type HttpRequest,
  type HttpRoute,
} from '@qnet/service';
import { RequestAuthService } from '../auth/request-auth.service.js';
import type { DeviceConfig } from '../config.js';
import { DeviceService } from '../devices/device.service.js';
import { DEVICE_CONFIG } from '../devices/tokens.js';

/**
 * Seed 004's controller API on its own port (8090). Writes are signed (RequestAuthService): a
 * device may act only on itself; the bootstrap PSK registers new devices and may act on any
 * (operators). Reads answer unsigned, as the seed's `curl …/devices` does.
 */
@Injectable()
export class SeedControllerApi extends CompatibilityListener {
  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly devices: DeviceService,
    private readonly auth: RequestAuthService,
  ) {
    super();
  }

  protected address() {
    return {
      host: this.config.httpHost,
      port: this.config.httpPort,
      portVariable: 'DEVICE_HTTP_PORT',
    };
  }

  protected routes(): HttpRoute[] {
    return [
      {
        method: 'POST',
        path: '/register',
        handle: this.signedByDevice(RegisterDeviceRequest, (body) => this.devices.register(body)),
      },
      {
        method: 'POST',
        path: '/config',
        handle: this.signedByDevice(UpdateDeviceConfigRequest, (body) =>
          this.devices.updateConfig(body.device_id, body.config),
        ),
      },
      {
        method: 'POST',
        path: '/status',
        handle: this.signedByDevice(UpdateDeviceStatusRequest, (body) =>
          this.devices.updateStatus(body),
        ),
      },
      {
        method: 'POST',
        path: '/push_config/:device_id',
        handle: async (req) => {
          if ((await this.auth.verify(req)).kind !== 'bootstrap')
            throw new QnetError(
              'permission_denied',
              'push_config is signed with the bootstrap PSK',
            );
          return this.devices.pushConfig(
            (await validatePayload(PushConfigRequest, req.params)).device_id,
          );
        },
      },
      {
        method: 'GET',
        path: '/device/:device_id',
        handle: async (req) =>
          this.devices.get((await validatePayload(GetDeviceRequest, req.params)).device_id),
      },
      {
        method: 'GET',
        path: '/devices',
        handle: async (req) =>
          this.devices.list(await validatePayload(ListDevicesRequest, listQuery(req))),
      },
      { method: 'GET', path: '/topology', handle: () => this.devices.topology() },
      healthRoute('device-controller'),
    ];
  }

  /** A write signed by the device it is about (or with the bootstrap PSK): verified, then validated. */
  private signedByDevice<T extends { device_id: string }>(
    cls: new () => T,
    run: (body: T) => Promise<unknown>,
  ): HttpRoute['handle'] {
    return async (req) => {
      const signer = await this.auth.verify(req);
      const body = await validatePayload(cls, req.body);
      if (signer.kind === 'device' && signer.deviceId !== body.device_id)
        throw new QnetError(
          'permission_denied',
          `device ${signer.deviceId} cannot act on ${body.device_id}`,
        );
      return run(body);
    };
  }
}

function listQuery(req: HttpRequest): Record<string, unknown> {
  const q: Record<string, unknown> = Object.fromEntries(req.query);
  if (typeof q.page_size === 'string' && /^\d+$/.test(q.page_size))
    q.page_size = Number(q.page_size);
  return q;
}
