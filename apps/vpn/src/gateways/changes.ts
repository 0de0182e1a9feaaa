import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AuditEventView } from '@qnet/contracts';
import { DATA_SOURCE, inTransaction, type SqlTx } from '@qnet/persistence';
import { DesiredStateService } from '../agent/desired-state.service.js';
import { AuditLog, type AuditEntry } from '../audit/audit-log.js';
import { VpnRepository, type ServiceRow } from './vpn.repository.js';

export interface Change<T> {
  result: T;
  audit: AuditEntry[];
}

/**
 * How every VPN change is made: in one transaction the host's next generation (its row lock orders
 * changes per host), the change, its audit rows and the host's new desired state; after the commit
 * the state goes to the agent and the audit entries out as events.
 */
@Injectable()
export class GatewayChanges {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly repo: VpnRepository,
    private readonly auditLog: AuditLog,
    private readonly desired: DesiredStateService,
  ) {}

  async onHost<T>(
    hostId: string,
    fn: (tx: SqlTx, generation: number) => Promise<Change<T>>,
  ): Promise<T> {
    const { result, audited, state } = await inTransaction(this.ds, async (tx) => {
      const generation = await this.repo.nextGeneration(tx, hostId);
      const { result, audit } = await fn(tx, generation);
      const audited: AuditEventView[] = [];
      for (const a of audit) audited.push(await this.auditLog.record(tx, a));
      return { result, audited, state: await this.desired.render(tx, hostId) };
    });
    this.desired.push(hostId, state);
    for (const e of audited) this.auditLog.emit(e);
    return result;
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
