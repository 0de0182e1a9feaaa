import { Injectable } from '@nestjs/common';
import { Outbox, type DriverObserver } from '@qnet/service';
import { LbRepository } from '../balancers/lb.repository.js';
import { MEMBER_HEALTH, type DriverStatusReport, type LbObserved } from '@qnet/contracts';

/**
 * What hosts' agents observe of their lb drivers: per member its health and connection counters.
 * A member whose health changed gets `member.health_changed`.
 */
@Injectable()
export class LbStatusService implements DriverObserver {
  constructor(
    private readonly outbox: Outbox,
    private readonly repo: LbRepository,
  ) {}

  async observe(report: DriverStatusReport): Promise<void> {
    const observed = report.observed as LbObserved | undefined;
    if (Array.isArray(observed?.load_balancers))
      await this.recordObserved(report.host_id, observed);
  }

  private async recordObserved(hostId: string, observed: LbObserved): Promise<void> {
    const balancers = observed.load_balancers;
    const members = balancers.flatMap((b) =>
      (b.members ?? []).filter((m) => (MEMBER_HEALTH as readonly string[]).includes(m.health)),
    );
    await this.outbox.transaction(async (tx, out) => {
      await this.repo.recordTraffic(tx, hostId, balancers);
      const transitions = await this.repo.recordMemberHealth(tx, hostId, members);
      for (const t of transitions)
        if (t.from !== t.to)
          out.event({
            resource: 'member',
            event: 'health_changed',
            id: t.id,
            project: t.project_id,
            data: {
              load_balancer_id: t.load_balancer_id,
              address: t.address,
              port: t.port,
              from: t.from,
              to: t.to,
            },
          });
    });
  }
}
