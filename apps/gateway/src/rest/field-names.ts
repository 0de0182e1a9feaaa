import { QnetError } from '@qnet/contracts';

/** REST field name → RPC field name, where a seed's REST document names a field differently. */
export type FieldNames = Record<string, string>;

/** The REST body in the RPC's names; unknown fields pass through (and are refused by name). */
export function toRpcFields(body: Record<string, unknown>, names: FieldNames) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) out[names[k] ?? k] = v;
  return out;
}

/** An RPC error whose field details are given back in the REST document's names. */
export async function withRestFieldNames<T>(names: FieldNames, call: () => Promise<T>) {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof QnetError) || !err.details?.length) throw err;
    const restName = new Map(Object.entries(names).map(([rest, rpc]) => [rpc, rest]));
    // `peer_address[2]` and `spec.x` rename by their first segment.
    const rename = (f: string) => {
      if (restName.has(f)) return restName.get(f)!;
      const [, head, rest] = /^([^.[]+)(.*)$/.exec(f) ?? [];
      return head && restName.has(head) ? restName.get(head)! + rest : f;
    };
    const [first] = err.details;
    const message = err.message.startsWith(`${first!.field}:`)
      ? `${rename(first!.field)}${err.message.slice(first!.field.length)}`
      : err.message;
    throw new QnetError(
      err.code,
      message,
      err.details.map((d) => ({ ...d, field: rename(d.field) })),
    );
  }
}
