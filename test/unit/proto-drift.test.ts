import { getMetadataStorage, IsString } from 'class-validator';
import { registeredHandlers } from '@qnet/bus';
import { BUS_SERVICES, defaultProtoDir, ProtoCatalog, type Class } from '@qnet/contracts';
import { SERVICE_DEFINITIONS } from './app-definitions.js';

const catalog = ProtoCatalog.load(defaultProtoDir());

/** Field names a payload class accepts (its validated properties, inherited ones included). */
function payloadFields(cls: Class<object>): string[] {
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  return [...new Set(metas.map((m) => m.propertyName))].sort();
}

/** Differences between a payload class and its proto message; empty when they agree. */
export function drift(cls: Class<object>, message: string): string[] {
  const proto = catalog
    .fields(message)
    .map((f) => f.name)
    .sort();
  const own = payloadFields(cls);
  return [
    ...proto
      .filter((f) => !own.includes(f))
      .map((f) => `${message}.${f} is missing from ${cls.name}`),
    ...own.filter((f) => !proto.includes(f)).map((f) => `${cls.name}.${f} is not in ${message}`),
  ];
}

describe('bus handlers agree with proto/limiquantix/network/v1', () => {
  // Importing every app's definition registers its handlers.
  expect(SERVICE_DEFINITIONS).toHaveLength(BUS_SERVICES.length);
  const handlers = registeredHandlers();

  it('every proto service is one bus service and vice versa', () => {
    expect(catalog.serviceNames().sort()).toEqual(BUS_SERVICES.map((s) => s.proto).sort());
  });

  it('finds handlers to check', () => {
    expect(handlers.filter((h) => h.contract.protoRequest).length).toBeGreaterThan(0);
  });

  it.each(
    handlers
      .filter((h) => h.contract.protoRequest)
      .map((h) => [`${h.contract.service}.${h.contract.method}`, h]),
  )('%s: payload fields match the proto request and the RPC exists', (_name, h) => {
    const svc = BUS_SERVICES.find((s) => s.id === h.contract.service)!;
    const rpc = catalog.method(svc.proto, h.contract.method);
    expect(rpc?.requestType).toBe(h.contract.protoRequest);
    expect(drift(h.contract.request, h.contract.protoRequest!)).toEqual([]);
    const params = Reflect.getMetadata(
      'design:paramtypes',
      h.controller.prototype,
      h.method,
    ) as unknown[];
    expect(params[0]).toBe(h.contract.request);
  });

  it('detects drift (the check itself can fail)', () => {
    class Drifted {}
    IsString()(Drifted.prototype, 'host_name');
    expect(drift(Drifted, 'GetHostRequest')).toEqual([
      'GetHostRequest.host_id is missing from Drifted',
      'Drifted.host_name is not in GetHostRequest',
    ]);
  });

  it('every RPC of a service marked complete has a handler', () => {
    const missing = BUS_SERVICES.filter((s) => s.complete).flatMap((s) =>
      catalog
        .methods(s.proto)
        .filter(
          (m) => !handlers.some((h) => h.contract.service === s.id && h.contract.method === m.name),
        )
        .map((m) => `${s.proto}/${m.name}`),
    );
    expect(missing).toEqual([]);
  });
});
