import type { NatsConnection } from '@nats-io/transport-node';
import { busRequest } from '@qnet/bus';
import {
  BUS_SERVICES,
  clusterOnlyMessage,
  isClusterProtoRpc,
  QnetError,
  serviceByProto,
  Subjects,
  type ProtoCatalog,
  type ProtoMethod,
  type RpcContract,
} from '@qnet/contracts';
import { currentContext } from '@qnet/runtime';
import type { GatewayConfig } from '../config.js';
import { httpMetrics } from '../http/metrics.js';

export interface ResolvedRpc {
  method: ProtoMethod;
  subject: string;
}

/**
 * Maps a proto RPC to its bus subject and forwards a JSON document to it. The proto is the
 * list of what exists: anything else is a 404 before the bus is touched.
 */
export class RpcForwarder {
  constructor(
    private readonly nc: NatsConnection,
    private readonly catalog: ProtoCatalog,
    private readonly config: Pick<GatewayConfig, 'rpcTimeoutMs'>,
  ) {}

  resolve(protoService: string, methodName: string): ResolvedRpc {
    const svc = serviceByProto(protoService);
    if (!svc) throw new QnetError('not_found', `unknown service ${protoService}`);
    const method = this.catalog.method(protoService, methodName);
    if (!method) throw new QnetError('not_found', `${protoService} has no method ${methodName}`);
    return { method, subject: Subjects.rpc(svc.id, method.name) };
  }

  /** Forwards a REST route's message to its contract's RPC, as the Connect path would. */
  call<Res>(contract: RpcContract<object, Res>, body: Record<string, unknown>): Promise<Res> {
    const svc = BUS_SERVICES.find((s) => s.id === contract.service);
    if (!svc) throw new QnetError('internal', `no service ${contract.service}`);
    return this.forward<Res>(this.resolve(svc.proto, contract.method), body);
  }

  async forward<T = unknown>(
    { method, subject }: ResolvedRpc,
    body: Record<string, unknown>,
  ): Promise<T> {
    const project = currentContext()?.project;
    if (project && isClusterProtoRpc(method.service, method.name))
      throw new QnetError('permission_denied', clusterOnlyMessage(project));
    const payload = this.scoped(method, body);
    const started = process.hrtime.bigint();
    let outcome = 'ok';
    try {
      return await busRequest<T>(this.nc, subject, payload, {
        timeoutMs: this.config.rpcTimeoutMs,
      });
    } catch (err) {
      outcome = err instanceof QnetError ? err.code : 'internal';
      throw err;
    } finally {
      httpMetrics.bus.observe(
        { subject, outcome },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    }
  }

  /** A project-scoped token's requests name its project where the message has a project_id. */
  private scoped(method: ProtoMethod, body: Record<string, unknown>): Record<string, unknown> {
    const project = currentContext()?.project;
    if (!project || body.project_id !== undefined) return body;
    const hasProject = this.catalog.fields(method.requestType).some((f) => f.name === 'project_id');
    return hasProject ? { ...body, project_id: project } : body;
  }

  /** Query strings are text: turn numeric and boolean proto fields into JSON numbers and booleans. */
  queryToMessage(
    contract: RpcContract<object, unknown>,
    query: Record<string, unknown>,
  ): Record<string, unknown> {
    const requestType = contract.protoRequest ?? `${contract.method}Request`;
    const fields = new Map(this.catalog.fields(requestType).map((f) => [f.name, f]));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(query)) {
      const f = fields.get(k);
      if (typeof v !== 'string' || !f) {
        out[k] = v;
        continue;
      }
      if (/int|fixed|double|float/.test(f.type) && /^-?\d+(\.\d+)?$/.test(v)) out[k] = Number(v);
      else if (f.type === 'bool' && (v === 'true' || v === 'false')) out[k] = v === 'true';
      else out[k] = v;
    }
    return out;
  }
}
