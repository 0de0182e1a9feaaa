import type { BusServiceId } from './services.js';
import { Subjects } from './subjects.js';

export type Class<T> = new (...args: never[]) => T;

/**
 * A request/reply operation: its subject, request class (validated by every consumer) and
 * the proto message it mirrors. `Res` is carried in the type only, so a caller gets a typed reply
 * and a wrong payload is a compile error.
 */
export interface RpcContract<Req extends object, Res> {
  readonly service: BusServiceId;
  readonly method: string;
  readonly subject: string;
  readonly request: Class<Req>;
  /** Request message name in the proto; undefined for bus-internal operations (Ping). */
  readonly protoRequest?: string;
  readonly __response?: Res;
}

export function defineRpc<Req extends object, Res>(
  service: BusServiceId,
  method: string,
  request: Class<Req>,
  opts: { protoRequest?: string } = {},
): RpcContract<Req, Res> {
  return {
    service,
    method,
    subject: Subjects.rpc(service, method),
    request,
    protoRequest: opts.protoRequest,
  };
}

export type RequestOf<C> = C extends RpcContract<infer Req, unknown> ? Req : never;
export type ResponseOf<C> = C extends RpcContract<object, infer Res> ? Res : never;

/** A request/reply on one host's agent subjects (`qnet.agent.<host>.…`): the subject names the host. */
export interface AgentCallContract<Req extends object, Res> {
  readonly subject: (hostId: string) => string;
  readonly __request?: Req;
  readonly __response?: Res;
}

export function defineAgentCall<Req extends object, Res>(
  subject: (hostId: string) => string,
): AgentCallContract<Req, Res> {
  return { subject };
}
