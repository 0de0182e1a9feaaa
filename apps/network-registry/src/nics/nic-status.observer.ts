import { Injectable } from '@nestjs/common';
import type { DriverStatusReport, LinuxStatus } from '@qnet/contracts';
import { TurnBatch } from '@qnet/persistence';
import type { DriverObserver } from '@qnet/service';
import { NicRepository } from './nic.repository.js';

/**
 * Takes the linux driver's reports: a NIC its host could not realize (its container namespace
 * does not exist there) is ERROR with the agent's reason, and stops being so once it applies; the
 * drops of each NIC's port security, as the host counts them.
 */
@Injectable()
export class NicStatusObserver implements DriverObserver {
  /**
   * Every host of an overlay reports each change (200 at once): one UPDATE per turn, after each
   * host's latest report in it (an agent's reports arrive in the order it sent them).
   */
  private readonly rejections = new TurnBatch(
    async (reports: { host: string; rejected: Record<string, string> }[]) => {
      await this.nics.recordRejections(new Map(reports.map((r) => [r.host, r.rejected])));
      return reports.map(() => undefined);
    },
  );

  constructor(private readonly nics: NicRepository) {}

  async observe(report: DriverStatusReport): Promise<void> {
    if (report.ok && report.rejected)
      await this.rejections.add({ host: report.host_id, rejected: report.rejected });
    const drops = portDropsOf(report.observed);
    if (drops) await this.nics.recordDrops(report.host_id, drops);
  }
}

/** The status's drop counts, if it carries well-formed ones (it comes from an agent). */
function portDropsOf(observed: unknown): Record<string, number> | undefined {
  const drops = (observed as Partial<LinuxStatus> | undefined)?.port_drops;
  if (typeof drops !== 'object' || drops === null) return undefined;
  const out: Record<string, number> = {};
  for (const [port, d] of Object.entries(drops).slice(0, 10_000)) {
    const packets = (d as { packets?: unknown } | null)?.packets;
    if (typeof packets === 'number' && Number.isSafeInteger(packets) && packets >= 0)
      out[port] = packets;
  }
  return out;
}
