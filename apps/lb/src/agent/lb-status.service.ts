import { Injectable } from '@nestjs/common';
import { Outbox, type DriverObserver } from '@qnet/service';
import {
  MEMBER_HEALTH,
  type DriverStatusReport,
  type LbObserved,
  type MemberHealth,
} from '@qnet/contracts';

interface HealthTransition {
  id: string;
  load_balancer_id: string;
  address: string;
  port: number;
  from: MemberHealth;
  to: MemberHealth;
}

/**
 * What hosts' agents observe of their lb drivers: per member its health and connection counters.
 * A member whose health changed gets `member.health_changed`.
 */
@Injectable()
export class LbStatusService implements DriverObserver {
  constructor(private readonly outbox: Outbox) {}

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
      // Only what this host realizes: a report about an LB placed elsewhere since is ignored.
      await tx.rows(
        `UPDATE load_balancers b SET bytes_in = o.bytes_in, bytes_out = o.bytes_out, observed_at = now()
         FROM unnest($2::uuid[], $3::bigint[], $4::bigint[]) AS o(id, bytes_in, bytes_out)
         WHERE b.id = o.id AND b.host_id = $1`,
        [
          hostId,
          balancers.map((b) => b.id),
          balancers.map((b) => b.bytes_in),
          balancers.map((b) => b.bytes_out),
        ],
      );
      const transitions = await tx.rows<HealthTransition>(
        `WITH o AS (
           SELECT * FROM unnest($2::uuid[], $3::text[], $4::bigint[], $5::bigint[])
             AS o(id, health, active, total)
         ), old AS (
           SELECT m.id, m.health FROM lb_members m JOIN o USING (id)
           JOIN load_balancers b ON b.id = m.load_balancer_id AND b.host_id = $1
           FOR UPDATE OF m
         )
         UPDATE lb_members m SET health = o.health, active_connections = o.active,
           total_connections = o.total
         FROM o, old WHERE m.id = o.id AND old.id = o.id
         RETURNING m.id, m.load_balancer_id, host(m.address) AS address, m.port,
           old.health AS "from", m.health AS "to"`,
        [
          hostId,
          members.map((m) => m.id),
          members.map((m) => m.health),
          members.map((m) => m.active_connections),
          members.map((m) => m.total_connections),
        ],
      );
      for (const t of transitions)
        if (t.from !== t.to)
          out.event({
            resource: 'member',
            event: 'health_changed',
            id: t.id,
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
