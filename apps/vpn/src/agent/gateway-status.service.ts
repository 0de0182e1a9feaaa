import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  CONNECTED_WITHIN_S,
  type DriverStatusReport,
  type VpnStatusView,
  type WireguardObserved,
} from '@qnet/contracts';
import { autocommit, DATA_SOURCE } from '@qnet/persistence';
import { Outbox, type DriverObserver } from '@qnet/service';
import { auditEvent, AuditLog } from '../audit/audit.repository.js';
import type { VpnConfig } from '../config.js';
import { operatingOf } from '../gateways/views.js';
import { VpnRepository } from '../gateways/vpn.repository.js';
import { VPN_CONFIG } from '../tokens.js';

const connectedAt = (t: Date | null, now: number) =>
  t !== null && now - t.getTime() <= CONNECTED_WITHIN_S * 1000;

/** What gateways' agents observe: per-peer handshakes and traffic; and a gateway's status. */
@Injectable()
export class GatewayStatusService implements DriverObserver {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(VPN_CONFIG) private readonly config: VpnConfig,
    private readonly repo: VpnRepository,
    private readonly auditLog: AuditLog,
    private readonly outbox: Outbox,
  ) {}

  async observe(report: DriverStatusReport): Promise<void> {
    const observed = report.observed as WireguardObserved | undefined;
    if (observed?.interfaces) await this.recordPeers(report.host_id, observed);
  }

  /** Updates peers that changed; a peer that starts or stops handshaking is audited and emitted. */
  private async recordPeers(hostId: string, observed: WireguardObserved): Promise<void> {
    const peers = observed.interfaces.flatMap((x) => x.peers.map((p) => ({ ...p, iface: x.name })));
    if (!peers.length) return;
    await this.outbox.transaction(async (tx, out) => {
      const now = Date.now();
      for (const c of await this.repo.recordPeers(tx, hostId, peers)) {
        const was = connectedAt(c.before, now);
        const is = connectedAt(c.after, now);
        if (was === is) continue;
        const entry = await this.auditLog.record(tx, {
          vpn_service_id: c.vpn_service_id,
          connection_id: c.id,
          action: is ? 'connection.connected' : 'connection.disconnected',
          actor: `agent:${hostId}`,
          detail: is
            ? `${c.name} handshake from ${c.endpoint || 'unknown endpoint'}`
            : `${c.name}: no handshake for ${CONNECTED_WITHIN_S} s`,
        });
        out.event(auditEvent(entry));
      }
    });
  }

  async status(serviceId: string): Promise<VpnStatusView> {
    const tx = autocommit(this.ds);
    const s = await this.repo.service(tx, serviceId);
    const now = Date.now();
    return {
      vpn_service_id: s.id,
      operating_status: operatingOf(s, this.config.reportStaleMs, now),
      observed_at: s.reported_at?.toISOString() ?? '',
      connections: (await this.repo.allConnections(tx, s.id)).map((c) => ({
        connection_id: c.id,
        name: c.name,
        latest_handshake: c.latest_handshake?.toISOString() ?? '',
        rx_bytes: Number(c.rx_bytes),
        tx_bytes: Number(c.tx_bytes),
        connected: connectedAt(c.latest_handshake, now),
        endpoint: c.endpoint,
      })),
    };
  }
}
