import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
  type Type,
} from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { RpcContract } from '@qnet/contracts';
import { RpcForwarder } from '../connect/rpc-forwarder.js';
import { toRpcFields, withRestFieldNames, type FieldNames } from './field-names.js';

/** Lists answer a bare JSON array as API 003 shows; the next page's token rides in a header. */
export const NEXT_PAGE_HEADER = 'X-Next-Page-Token';

type Message = Record<string, unknown>;

/** One REST route: which RPC it calls and how its request message is made. */
export interface RestRoute {
  verb: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative to the controller's base, e.g. ':id/members'. */
  path: string;
  summary: string;
  /** The body is validated by the service, like a Connect call's: any request type. */
  rpc: RpcContract<object, unknown>;
  /** Path parameter → request field; they override anything the body or query says. */
  params?: Record<string, string>;
  /** The rest of the message: the JSON body (POST/PUT/PATCH by default), the query, or nothing. */
  from?: 'body' | 'query' | 'none';
  /** Reshapes a body written in a seed's REST document into the RPC message. */
  reshape?: (body: Message) => Message;
  /** REST name → RPC name of renamed fields (errors name the REST field). */
  fieldNames?: FieldNames;
  /** 200 for actions that POST; 204 (no body) for removals. Default: Nest's (201 for POST). */
  status?: 200 | 204;
  /** The reply's list field: the route answers that array, the next page token in a header. */
  listOf?: string;
}

export interface RestResource {
  /** The controller's class name, for logs and the OpenAPI document. */
  name: string;
  tag: string;
  base: string;
  routes: Record<string, RestRoute>;
}

const VERBS = { GET: Get, POST: Post, PUT: Put, PATCH: Patch, DELETE: Delete };

/**
 * A REST resource as a NestJS controller: each route forwards one message to its RPC through the
 * RpcForwarder (scoping, cluster-only RPCs, metrics), exactly like the Connect paths.
 */
export function restController(resource: RestResource): Type {
  @ApiTags(resource.tag)
  @Controller(resource.base)
  class RestController {
    constructor(readonly rpc: RpcForwarder) {}
  }
  Object.defineProperty(RestController, 'name', { value: resource.name });
  for (const [name, route] of Object.entries(resource.routes)) {
    Object.defineProperty(RestController.prototype, name, {
      value: function (
        this: RestController,
        params: Record<string, string>,
        query: Message,
        body: unknown,
        res: Response,
      ) {
        return serve(this.rpc, route, params, query, body, res);
      },
      writable: true,
      configurable: true,
    });
    const target = RestController.prototype;
    Param()(target, name, 0);
    Query()(target, name, 1);
    Body()(target, name, 2);
    Res({ passthrough: true })(target, name, 3);
    const pathParams = [...route.path.matchAll(/:([a-z_]+)/g)].map((m) => m[1] ?? '');
    applyDecorators(
      VERBS[route.verb](route.path),
      ApiOperation({ summary: route.summary }),
      ...(route.status ? [HttpCode(route.status)] : []),
      ...pathParams.map((p) => ApiParam({ name: p, type: String })),
    )(target, name, Object.getOwnPropertyDescriptor(target, name)!);
  }
  return RestController;
}

async function serve(
  rpc: RpcForwarder,
  route: RestRoute,
  params: Record<string, string>,
  query: Message,
  body: unknown,
  res: Response,
): Promise<unknown> {
  const from = route.from ?? (route.verb === 'GET' || route.verb === 'DELETE' ? 'none' : 'body');
  const input =
    from === 'query'
      ? rpc.queryToMessage(route.rpc, query)
      : from === 'body' && isMessage(body)
        ? (route.reshape?.(body) ?? body)
        : {};
  const named = route.fieldNames ? toRpcFields(input, route.fieldNames) : input;
  const message: Message = { ...named };
  for (const [param, field] of Object.entries(route.params ?? {})) message[field] = params[param];
  const reply = route.fieldNames
    ? await withRestFieldNames(route.fieldNames, () => rpc.call(route.rpc, message))
    : await rpc.call(route.rpc, message);
  if (route.status === 204) return undefined;
  if (!route.listOf || !isMessage(reply)) return reply;
  const token = reply.next_page_token;
  if (typeof token === 'string' && token) res.setHeader(NEXT_PAGE_HEADER, token);
  return reply[route.listOf];
}

const isMessage = (v: unknown): v is Message =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
