import { createHmac } from 'node:crypto';

/** Headers of a device-signed request to the device controller. */
export const SIGNATURE_HEADERS = {
  device: 'x-device-id',
  timestamp: 'x-timestamp',
  signature: 'x-signature',
} as const;

/** Accepted clock difference between a device and the controller. */
export const SIGNATURE_WINDOW_S = 30;

/**
 * What a device signs: the timestamp and the body, as API 004's PSK model, plus the method and
 * path so that a captured signature cannot be replayed against another operation.
 */
export function signatureBase(
  timestamp: string,
  method: string,
  path: string,
  body: string,
): string {
  return `${timestamp}\n${method.toUpperCase()}\n${path}\n${body}`;
}

export function signature(psk: string, base: string): string {
  return createHmac('sha256', psk).update(base).digest('hex');
}

/** The headers a device sends with `body` (exactly the bytes it sends) to `method path`. */
export function signRequest(
  psk: string,
  req: { method: string; path: string; body: string; deviceId?: string; timestamp?: number },
): Record<string, string> {
  const ts = String(req.timestamp ?? Math.floor(Date.now() / 1000));
  return {
    ...(req.deviceId ? { [SIGNATURE_HEADERS.device]: req.deviceId } : {}),
    [SIGNATURE_HEADERS.timestamp]: ts,
    [SIGNATURE_HEADERS.signature]: signature(
      psk,
      signatureBase(ts, req.method, req.path, req.body),
    ),
  };
}
