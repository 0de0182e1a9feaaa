import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  QnetError,
  type AddListenerRequest,
  type AddMemberRequest,
  type ListenerView,
  type MemberView,
  type UpdateMemberRequest,
} from '@qnet/contracts';
import { canonicalIp, ipFamily } from '@qnet/netaddr';
import { explainViolation } from '@qnet/persistence';
import { LbChanges } from './changes.js';
import { LbRepository } from './lb.repository.js';
import { balancerView, memberView } from './views.js';

const LISTENER_CONSTRAINTS = {
  lb_listeners_port: {
    field: 'port',
    message: 'the load balancer already listens on this port and protocol',
  },
  lb_listeners_name: { field: 'name', message: 'the load balancer has a listener of this name' },
};
const MEMBER_CONSTRAINTS = {
  lb_members_address: {
    field: 'address',
    message: 'this address and port is already a member of the load balancer',
  },
};

/** Listeners (frontend ports of the VIP) and members (backends) of a load balancer. */
@Injectable()
export class MemberService {
  constructor(
    private readonly repo: LbRepository,
    private readonly changes: LbChanges,
  ) {}

  async addListener(req: AddListenerRequest): Promise<ListenerView> {
    return this.changes.onBalancer(req.load_balancer_id, async (tx, lb) => {
      const protocol = req.protocol ?? lb.protocol;
      const id = randomUUID();
      await this.repo
        .insertListener(tx, {
          id,
          load_balancer_id: lb.id,
          name: req.name ?? `${protocol.toLowerCase()}-${req.port}`,
          port: req.port,
          protocol,
        })
        .catch((err: unknown) => explainViolation(err, LISTENER_CONSTRAINTS));
      const view = balancerView(await this.repo.full(tx, lb.id)).listeners.find(
        (l) => l.id === id,
      )!;
      return { result: view, events: [{ resource: 'listener', event: 'added', id, data: view }] };
    });
  }

  async removeListener(lbId: string, listenerId: string): Promise<void> {
    await this.changes.onBalancer(lbId, async (tx) => {
      const l = await this.repo.deleteListener(tx, lbId, listenerId);
      return {
        result: undefined,
        events: [{ resource: 'listener', event: 'removed', id: l.id, data: l }],
      };
    });
  }

  async addMember(req: AddMemberRequest): Promise<MemberView> {
    return this.changes.onBalancer(req.load_balancer_id, async (tx, lb) => {
      if (ipFamily(req.address) !== ipFamily(lb.vip))
        throw QnetError.invalid('address', `must be of the VIP's family (IPv${ipFamily(lb.vip)})`);
      const id = randomUUID();
      await this.repo
        .insertMember(tx, {
          id,
          load_balancer_id: lb.id,
          address: canonicalIp(req.address),
          port: req.port,
          weight: req.weight ?? 1,
          admin_state_up: req.admin_state_up ?? true,
          logical_port: req.logical_port ?? '',
        })
        .catch((err: unknown) => explainViolation(err, MEMBER_CONSTRAINTS));
      const b = await this.repo.full(tx, lb.id);
      const view = memberView(
        b.members.find((m) => m.id === id)!,
        b,
      );
      return { result: view, events: [{ resource: 'member', event: 'added', id, data: view }] };
    });
  }

  async removeMember(lbId: string, memberId: string): Promise<void> {
    await this.changes.onBalancer(lbId, async (tx) => {
      const m = await this.repo.deleteMember(tx, lbId, memberId);
      return {
        result: undefined,
        events: [
          {
            resource: 'member',
            event: 'removed',
            id: m.id,
            data: { load_balancer_id: lbId, address: m.address, port: m.port },
          },
        ],
      };
    });
  }

  async updateMember(req: UpdateMemberRequest): Promise<MemberView> {
    return this.changes.onBalancer(req.load_balancer_id, async (tx, lb) => {
      await this.repo.member(tx, lb.id, req.member_id);
      await this.repo.updateMember(tx, req.member_id, req);
      const b = await this.repo.full(tx, lb.id);
      const view = memberView(
        b.members.find((m) => m.id === req.member_id)!,
        b,
      );
      return {
        result: view,
        events: [{ resource: 'member', event: 'updated', id: view.id, data: view }],
      };
    });
  }
}
