import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { DriverStatusReport } from '@qnet/contracts';
import { autocommit, DATA_SOURCE } from '@qnet/persistence';
import type { DriverObserver } from '@qnet/service';
import { recordNicRejections } from './nic.repository.js';

/**
 * Takes the linux driver's reports: a NIC its host could not realize (its container namespace
 * does not exist there) is ERROR with the agent's reason, and stops being so once it applies.
 */
@Injectable()
export class NicRejectionsObserver implements DriverObserver {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  async observe(report: DriverStatusReport): Promise<void> {
    if (report.ok && report.rejected)
      await recordNicRejections(autocommit(this.ds), report.host_id, report.rejected);
  }
}
