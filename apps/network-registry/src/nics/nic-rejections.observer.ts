import { Injectable } from '@nestjs/common';
import type { DriverStatusReport } from '@qnet/contracts';
import type { DriverObserver } from '@qnet/service';
import { NicRepository } from './nic.repository.js';

/**
 * Takes the linux driver's reports: a NIC its host could not realize (its container namespace
 * does not exist there) is ERROR with the agent's reason, and stops being so once it applies.
 */
@Injectable()
export class NicRejectionsObserver implements DriverObserver {
  constructor(private readonly nics: NicRepository) {}

  async observe(report: DriverStatusReport): Promise<void> {
    if (report.ok && report.rejected)
      await this.nics.recordRejections(report.host_id, report.rejected);
  }
}
