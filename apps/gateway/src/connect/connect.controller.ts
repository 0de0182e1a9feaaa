import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { Request } from 'express';
import { PROTO_PACKAGE, QnetError } from '@qnet/contracts';
import { RpcForwarder } from './rpc-forwarder.js';

/**
 * Connect-style unary JSON: POST /limiquantix.network.v1.<Service>/<Method> → qnet.rpc.<svc>.<Method>.
 * The per-RPC paths are listed in /docs from the proto.
 */
@Controller()
export class ConnectController {
  constructor(private readonly rpc: RpcForwarder) {}

  @Post(':service/:method')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async call(
    @Param('service') service: string,
    @Param('method') method: string,
    @Body() body: Record<string, unknown>,
    @Req() req: Request,
  ): Promise<unknown> {
    const prefix = `${PROTO_PACKAGE}.`;
    if (!service.startsWith(prefix)) throw new QnetError('not_found', `unknown service ${service}`);
    const rpc = this.rpc.resolve(service.slice(prefix.length), method);
    // Connect unary calls always declare JSON; the body itself was checked by jsonBody().
    if (!req.is('application/json')) {
      throw new QnetError('unsupported_media_type', 'content-type: must be application/json');
    }
    return this.rpc.forward(rpc, body);
  }
}
