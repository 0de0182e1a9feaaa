import { Controller, type Provider, type Type } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  AgentWildcards,
  DesiredStateRequest,
  DriverStatusReport,
  hostIdOfSubject,
  QnetError,
  type DesiredState,
} from '@qnet/contracts';
import {
  AGENT_DRIVERS,
  DesiredStateChanges,
  type AgentDriverMap,
  type DriverObserver,
  type DriverRenderer,
} from './changes.js';

export interface AgentDriver {
  /** The driver's name on the agent and in its subjects, e.g. "lb_nft". */
  driver: string;
  renderer: Type<DriverRenderer>;
  observer?: Type<DriverObserver>;
}

/**
 * What a service needs to own agent drivers: the desired-state core, and per driver a controller
 * that answers `qnet.agent.<host>.desired.<driver>` pulls and takes `qnet.agent.<host>.status.<driver>`
 * reports, each only for the host its subject names.
 */
export function agentDrivers(drivers: AgentDriver[]): {
  controllers: Type[];
  providers: Provider[];
} {
  const classes: Type[] = [
    ...new Set(drivers.flatMap((d) => (d.observer ? [d.renderer, d.observer] : [d.renderer]))),
  ];
  const map: Provider = {
    provide: AGENT_DRIVERS,
    inject: classes,
    // Nest passes the instances of `inject`, in its order.
    useFactory: (...instances: never[]): AgentDriverMap => {
      const of = (c: Type) => {
        const instance = instances[classes.indexOf(c)];
        if (instance === undefined) throw new Error(`${c.name} was not instantiated`);
        return instance;
      };
      return new Map(
        drivers.map((d) => [
          d.driver,
          { renderer: of(d.renderer), ...(d.observer ? { observer: of(d.observer) } : {}) },
        ]),
      );
    },
  };
  return {
    controllers: drivers.map((d) => driverController(d.driver)),
    providers: [...classes, map, DesiredStateChanges],
  };
}

function driverController(driver: string): Type {
  @Controller()
  class AgentDriverController {
    constructor(private readonly core: DesiredStateChanges) {}

    @MessagePattern(AgentWildcards.desired(driver))
    pull(@Payload() req: DesiredStateRequest, @Ctx() ctx: NatsContext): Promise<DesiredState> {
      if (hostIdOfSubject(ctx.getSubject()) !== req.host_id)
        throw new QnetError('permission_denied', `host_id ${req.host_id} does not match the agent`);
      return this.core.current(req.host_id, driver);
    }

    @EventPattern<Record<string, DriverStatusReport>>(AgentWildcards.status(driver))
    // Nest types an event handler's further arguments as unknown.
    async status(@Payload() report: DriverStatusReport, @Ctx() ctx: unknown): Promise<void> {
      const subject = ctx instanceof NatsContext ? ctx.getSubject() : '';
      if (hostIdOfSubject(subject) !== report.host_id || report.driver !== driver) return;
      await this.core.record(report);
    }
  }
  return AgentDriverController;
}
