import { readdirSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_PACKAGE } from './services.js';

export interface ProtoField {
  name: string;
  type: string;
  repeated: boolean;
  map: boolean;
  optional: boolean;
}

export interface ProtoMethod {
  service: string;
  name: string;
  requestType: string;
  responseType: string;
}

/**
 * The public API as declared in proto/limiquantix/network/v1: services, their RPCs and message
 * fields (snake_case, as on the wire). The gateway routes Connect paths with it; tests compare
 * handlers against it.
 */
export class ProtoCatalog {
  private readonly methodIndex = new Map<string, ProtoMethod[]>();
  private readonly fieldIndex = new Map<string, ProtoField[]>();

  /** Reflection is walked once here; lookups on the request path are map reads. */
  private constructor(private readonly root: protobuf.Root) {
    for (const svc of this.namespace().nestedArray) {
      if (!(svc instanceof protobuf.Service)) continue;
      this.methodIndex.set(
        svc.name,
        svc.methodsArray.map((m) => ({
          service: svc.name,
          name: m.name,
          requestType: m.resolvedRequestType!.name,
          responseType: m.resolvedResponseType!.fullName.replace(/^\./, ''),
        })),
      );
    }
  }

  static load(protoDir: string): ProtoCatalog {
    const dir = path.join(protoDir, ...PROTO_PACKAGE.split('.'));
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.proto'))
      .map((f) => path.join(dir, f));
    const root = new protobuf.Root();
    root.loadSync(files, { keepCase: true });
    root.resolveAll();
    return new ProtoCatalog(root);
  }

  serviceNames(): string[] {
    return [...this.methodIndex.keys()];
  }

  methods(service: string): ProtoMethod[] {
    return this.methodIndex.get(service) ?? [];
  }

  method(service: string, name: string): ProtoMethod | undefined {
    return this.methods(service).find((m) => m.name === name);
  }

  fields(message: string): ProtoField[] {
    let fields = this.fieldIndex.get(message);
    if (!fields) {
      const type = this.root.lookupType(
        message.includes('.') ? message : `${PROTO_PACKAGE}.${message}`,
      );
      fields = type.fieldsArray.map((f) => ({
        name: f.name,
        type: f.type,
        repeated: f.repeated,
        map: f instanceof protobuf.MapField,
        optional: Boolean(f.options?.proto3_optional) || f.partOf !== null,
      }));
      this.fieldIndex.set(message, fields);
    }
    return fields;
  }

  private namespace(): protobuf.Namespace {
    return this.root.lookup(PROTO_PACKAGE) as protobuf.Namespace;
  }
}

/** proto/ at the repository root, or PROTO_DIR (the container image copies it next to the apps). */
export function defaultProtoDir(): string {
  if (process.env.PROTO_DIR) return process.env.PROTO_DIR;
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../proto');
}
