import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  AgentWildcards,
  DesiredStateRequest,
  DriverStatusReport,
  hostIdOfSubject,
  QnetError,
} from '@qnet/contracts';
import { DesiredStateService, DRIVER, type NodeState } from './desired-state.service.js';
import { SessionStatusService } from './session-status.service.js';

/** Nodes' agents: desired-state pulls and status reports of their `frr` driver. */
@Controller()
export class AgentController {
  constructor(
    private readonly desired: DesiredStateService,
    private readonly sessions: SessionStatusService,
  ) {}

  @MessagePattern(AgentWildcards.desired(DRIVER))
  pull(@Payload() req: DesiredStateRequest, @Ctx() ctx: NatsContext): Promise<NodeState> {
    if (hostIdOfSubject(ctx.getSubject()) !== req.host_id)
      throw new QnetError('permission_denied', `host_id ${req.host_id} does not match the agent`);
    return this.desired.current(req.host_id);
  }

  @EventPattern<Record<string, DriverStatusReport>>(AgentWildcards.status(DRIVER))
  // Nest types an event handler's further arguments as unknown.
  async status(@Payload() report: DriverStatusReport, @Ctx() ctx: unknown): Promise<void> {
    if (hostIdOfSubject((ctx as NatsContext).getSubject()) !== report.host_id) return;
    await this.sessions.record(report);
  }
}
