import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  AgentWildcards,
  DesiredStateRequest,
  DriverStatusReport,
  hostIdOfSubject,
  QnetError,
  type DesiredState,
  type LinuxSpec,
} from '@qnet/contracts';
import { DesiredStateService } from './desired-state.service.js';

/** The agent side of the registry: desired-state pulls and applied-state reports of `linux`. */
@Controller()
export class DesiredStateController {
  constructor(private readonly desired: DesiredStateService) {}

  @MessagePattern(AgentWildcards.desired('linux'))
  pull(
    @Payload() req: DesiredStateRequest,
    @Ctx() ctx: NatsContext,
  ): Promise<DesiredState<LinuxSpec>> {
    if (hostIdOfSubject(ctx.getSubject()) !== req.host_id)
      throw new QnetError('permission_denied', `host_id ${req.host_id} does not match the agent`);
    return this.desired.current(req.host_id);
  }

  @EventPattern<Record<string, DriverStatusReport>>(AgentWildcards.status('linux'))
  // Nest types an event handler's further arguments as unknown.
  async status(@Payload() report: DriverStatusReport, @Ctx() ctx: unknown): Promise<void> {
    if (hostIdOfSubject((ctx as NatsContext).getSubject()) !== report.host_id) return;
    await this.desired.recordStatus(report);
  }
}
