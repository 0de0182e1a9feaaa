import { Injectable } from '@nestjs/common';
import type { SqlTx } from '@qnet/persistence';
import { DesiredStateChanges, type DomainEvent } from '@qnet/service';
import { DRIVER } from '../agent/wireguard-render.js';
import { auditEvent, AuditLog, type AuditEntry } from '../audit/audit.repository.js';
import { VpnRepository, type ServiceRow } from './vpn.repository.js';

export interface Change<T> {
  result: T;
  audit: AuditEntry[];
}

/**
 * How every VPN change is made: the desired-state core, on the host's `wireguard` driver; the
 * change's audit rows are written in its transaction and go out as its events.
 */
@Injectable()
export class GatewayChanges {
  constructor(
    private readonly core: DesiredStateChanges,
    private readonly repo: VpnRepository,
    private readonly auditLog: AuditLog,
  ) {}

  onHost<T>(hostId: string, fn: (tx: SqlTx, generation: number) => Promise<Change<T>>): Promise<T> {
    const host = { host_id: hostId, driver: DRIVER };
    return this.core.run(async (tx, touch) => {
      const generation = (await touch.hosts([host]))(host);
      const { result, audit } = await fn(tx, generation);
      const events: DomainEvent[] = [];
      for (const a of audit) events.push(auditEvent(await this.auditLog.record(tx, a)));
      return { result, events };
    });
  }

  /** A change to an existing service, its row locked for the transaction (404 if it is gone). */
  async onService<T>(
    serviceId: string,
    fn: (tx: SqlTx, generation: number, service: ServiceRow) => Promise<Change<T>>,
  ): Promise<T> {
    const hostId = await this.repo.hostOf(serviceId);
    return this.onHost(hostId, async (tx, generation) =>
      fn(tx, generation, await this.repo.service(tx, serviceId, true)),
    );
  }
}
