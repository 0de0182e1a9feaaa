import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import {
  QnetError,
  signature,
  signatureBase,
  SIGNATURE_HEADERS,
  SIGNATURE_WINDOW_S,
} from '@qnet/contracts';
import { isSubjectToken } from '@qnet/netaddr';
import type { HttpRequest } from '@qnet/service';
import type { DeviceConfig } from '../config.js';
import { DeviceRepository } from '../devices/device.repository.js';
import { DeviceService } from '../devices/device.service.js';
import { DEVICE_CONFIG } from '../devices/tokens.js';

/** Who signed a request: a device with its own PSK, or a holder of the bootstrap PSK. */
export type Signer = { kind: 'device'; deviceId: string } | { kind: 'bootstrap' };

/**
 * Seed 004's PSK model done properly: HMAC-SHA256 over timestamp, method, path and body, keyed
 * with the device's own PSK (the bootstrap PSK before it has one), a ±30 s timestamp window and
 * a replay cache in the database shared by every instance. Verification happens before anything
 * changes.
 */
@Injectable()
export class RequestAuthService implements OnApplicationBootstrap, OnApplicationShutdown {
  private sweeper?: NodeJS.Timeout;

  constructor(
    @Inject(DEVICE_CONFIG) private readonly config: DeviceConfig,
    private readonly devices: DeviceService,
    private readonly repo: DeviceRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeper = setInterval(
      () => void this.repo.forgetExpiredSignatures().catch(() => undefined),
      60_000,
    );
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  async verify(req: HttpRequest): Promise<Signer> {
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const ts = header(SIGNATURE_HEADERS.timestamp);
    const sig = header(SIGNATURE_HEADERS.signature);
    const deviceId = header(SIGNATURE_HEADERS.device);
    if (!ts || !sig)
      throw unauthenticated(
        `signed requests carry ${SIGNATURE_HEADERS.timestamp} and ${SIGNATURE_HEADERS.signature}`,
      );
    if (
      !/^\d{1,12}(\.\d{1,6})?$/.test(ts) ||
      Math.abs(Date.now() / 1000 - Number(ts)) > SIGNATURE_WINDOW_S
    )
      throw unauthenticated(
        `${SIGNATURE_HEADERS.timestamp} is not within ±${SIGNATURE_WINDOW_S} s of the controller's clock`,
      );
    if (!/^[0-9a-f]{64}$/.test(sig)) throw unauthenticated('bad signature');

    let psk: string | undefined;
    let signer: Signer;
    if (deviceId !== undefined) {
      if (!isSubjectToken(deviceId)) throw unauthenticated(`bad ${SIGNATURE_HEADERS.device}`);
      psk = await this.devices.pskOf(deviceId);
      signer = { kind: 'device', deviceId };
    } else {
      psk = this.config.bootstrapPsk;
      signer = { kind: 'bootstrap' };
    }
    if (!psk) throw unauthenticated('bad signature');
    const expected = Buffer.from(
      signature(psk, signatureBase(ts, req.method, req.path, req.rawBody.toString('utf8'))),
      'hex',
    );
    if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) throw unauthenticated('bad signature');
    if (!(await this.repo.rememberSignature(sig, 2 * SIGNATURE_WINDOW_S + 1)))
      throw unauthenticated('replayed request');
    if (signer.kind === 'device') await this.repo.touch(signer.deviceId);
    return signer;
  }
}

function unauthenticated(message: string): QnetError {
  return new QnetError('unauthenticated', message);
}
