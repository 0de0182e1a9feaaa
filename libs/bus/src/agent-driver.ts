import { Controller, Inject, type Type } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  AgentWildcards,
  DesiredStateRequest,
  DriverStatusReport,
  hostIdOfSubject,
  QnetError,
  Subjects,
  type DesiredState,
} from '@qnet/contracts';
import { encodeJson } from './codec.js';

/** The service that owns an agent driver renders each host's desired state… */
export interface DesiredStateSource {
  current(hostId: string): Promise<DesiredState>;
}

/** …and takes what the host's agent reports of it. */
export interface DriverStatusSink {
  record(report: DriverStatusReport): Promise<void>;
}

/**
 * The controller through which a service owns one agent driver (DESIGN §4): it answers
 * `qnet.agent.<host>.desired.<driver>` pulls and takes `qnet.agent.<host>.status.<driver>`
 * reports, each only for the host its subject names.
 */
export function agentDriverController(
  driver: string,
  source: Type<DesiredStateSource>,
  sink: Type<DriverStatusSink>,
): Type {
  @Controller()
  class AgentDriverController {
    constructor(
      @Inject(source) private readonly desired: DesiredStateSource,
      @Inject(sink) private readonly reports: DriverStatusSink,
    ) {}

    @MessagePattern(AgentWildcards.desired(driver))
    pull(@Payload() req: DesiredStateRequest, @Ctx() ctx: NatsContext): Promise<DesiredState> {
      if (hostIdOfSubject(ctx.getSubject()) !== req.host_id)
        throw new QnetError('permission_denied', `host_id ${req.host_id} does not match the agent`);
      return this.desired.current(req.host_id);
    }

    @EventPattern<Record<string, DriverStatusReport>>(AgentWildcards.status(driver))
    // Nest types an event handler's further arguments as unknown.
    async status(@Payload() report: DriverStatusReport, @Ctx() ctx: unknown): Promise<void> {
      if (hostIdOfSubject((ctx as NatsContext).getSubject()) !== report.host_id) return;
      await this.reports.record(report);
    }
  }
  return AgentDriverController;
}

/**
 * Sends a host's new desired state to its agent, after the change that rendered it committed.
 * Never fails its caller: a lost push is repaired by the agent's next pull.
 */
export function pushDesiredState(
  nc: NatsConnection,
  hostId: string,
  state: DesiredState,
  warn: (message: string) => void,
): void {
  try {
    nc.publish(Subjects.agentCmd(hostId, state.driver), encodeJson(state));
  } catch (err) {
    warn(`pushing ${hostId}'s ${state.driver} state failed (its agent resyncs): ${String(err)}`);
  }
}
