import { applyDecorators } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import type { RpcContract } from '@qnet/contracts';

export interface RegisteredHandler {
  contract: RpcContract<object, unknown>;
  controller: Function;
  method: string | symbol;
}

const handlers: RegisteredHandler[] = [];

/**
 * Binds a controller method to an RPC contract: subscribes to its subject and records the binding,
 * so tests can check every handler against the proto (payload fields, missing RPCs).
 */
export function RpcHandler(contract: RpcContract<object, unknown>): MethodDecorator {
  return (target, key, descriptor) => {
    handlers.push({ contract, controller: target.constructor, method: key });
    applyDecorators(MessagePattern(contract.subject))(target, key, descriptor);
  };
}

export function registeredHandlers(): readonly RegisteredHandler[] {
  return handlers;
}
