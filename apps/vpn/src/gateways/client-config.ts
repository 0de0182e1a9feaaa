import QRCode from 'qrcode';
import { ipFamily } from '@qnet/netaddr';

export const PRIVATE_KEY_PLACEHOLDER = '<YOUR_PRIVATE_KEY>';
export const PRESHARED_KEY_PLACEHOLDER = '<YOUR_PRESHARED_KEY>';
export const KEEPALIVE_S = 25;

export interface ClientConfigInput {
  name: string;
  peerAddress: string;
  hasPresharedKey: boolean;
  gatewayPublicKey: string;
  externalIp: string;
  listenPort: number;
  localSubnets: string[];
}

/**
 * The wg-quick client config (docs/compatibility.md, 000). Keys the service does not keep (the client's private
 * key, the PSK) are placeholders the user fills in; AllowedIPs routes only the local subnets.
 */
export function renderClientConfig(c: ClientConfigInput): string {
  const host = ipFamily(c.externalIp) === 6 ? `[${c.externalIp}]` : c.externalIp;
  return [
    '[Interface]',
    `# Name: ${c.name}`,
    `PrivateKey = ${PRIVATE_KEY_PLACEHOLDER}`,
    `Address = ${c.peerAddress}`,
    '',
    '[Peer]',
    '# LimiQuantix VPN Gateway',
    `PublicKey = ${c.gatewayPublicKey}`,
    ...(c.hasPresharedKey ? [`PresharedKey = ${PRESHARED_KEY_PLACEHOLDER}`] : []),
    `Endpoint = ${host}:${c.listenPort}`,
    `AllowedIPs = ${c.localSubnets.join(', ')}`,
    `PersistentKeepalive = ${KEEPALIVE_S}`,
    '',
  ].join('\n');
}

/** wg-quick names the interface after the file: at most 15 of [A-Za-z0-9_=+.-]. */
export function configFilename(name: string): string {
  const base = name.replace(/[^A-Za-z0-9_=+.-]+/g, '-').slice(0, 15) || 'wg0';
  return `${base}.conf`;
}

export function qrSvg(config: string): Promise<string> {
  return QRCode.toString(config, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
