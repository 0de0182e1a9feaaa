import type { TunnelEndpointRouter, TunnelEndpointSpec } from '@qnet/contracts';

/** One of an endpoint's two tunnel devices as a plan leaves it. */
export interface Slot {
  name: string;
  /** The router it is configured for; absent on a draining slot and on one to remove. */
  router?: TunnelEndpointRouter;
  /**
   * Public key of the router it holds: a wanted router's, or — draining — that of a router the
   * decision dropped while the slot still carries the routes (make-before-break: it keeps its
   * peer until the routes have moved).
   */
  key?: string;
}

export interface EndpointLayout {
  slots: [Slot, Slot];
  /** The slot that carries the routes; undefined when there is no router at all. */
  target: number | undefined;
}

/** What a layout is computed from: the router (public key) each slot holds now, and where the routes are. */
export interface SlotsNow {
  keys: readonly [string | undefined, string | undefined];
  routesOn: number | undefined;
}

/** A router's tunnel health by its public key: answering probes, or null before a verdict. */
export type HealthOf = (publicKey: string) => boolean | null;

/**
 * Which tunnel carries an endpoint's routes and which router each tunnel holds. Pure: the plan,
 * resyncs and the fast failover path all decide with it, so they agree.
 * - The routes go to the primary's tunnel when it answers its probes — unless this endpoint
 *   failed away from it and the decision still names it (`avoided`) — else to the backup's when
 *   it answers, else the primary's even if avoided, else they stay where they are.
 * - The tunnel carrying the routes keeps its router, even one the decision dropped (it drains):
 *   a router is replaced only on the other tunnel, and the routes move to that one only once it
 *   answers. So a planned move is make-before-break.
 * - The other tunnel holds the best wanted router the first one does not: the primary, else the
 *   backup. A tunnel holding a router that stays wanted keeps its session.
 */
export function layoutEndpoint(
  spec: TunnelEndpointSpec,
  now: SlotsNow,
  health: HealthOf,
  avoided: ReadonlySet<string> = new Set(),
): EndpointLayout {
  const [primary, backup] = spec.routers;
  const [first, second] = spec.interface_names;
  const slotFor = (name: string, router: TunnelEndpointRouter | undefined): Slot =>
    router ? { name, router, key: router.public_key } : { name };
  const holding = (r: TunnelEndpointRouter | undefined) =>
    r ? now.keys.indexOf(r.public_key) : -1;
  const answering = (r: TunnelEndpointRouter | undefined) =>
    holding(r) >= 0 && health(r!.public_key) === true;

  let target: number | undefined;
  if (answering(primary) && !avoided.has(primary!.public_key)) target = holding(primary);
  else if (answering(backup)) target = holding(backup);
  else if (answering(primary)) target = holding(primary);
  else if (now.routesOn !== undefined && now.keys[now.routesOn] !== undefined)
    target = now.routesOn;
  else if (primary)
    target = holding(primary) >= 0 ? holding(primary) : holding(backup) === 0 ? 1 : 0;
  if (target === undefined) return { slots: [{ name: first }, { name: second }], target };

  const key = now.keys[target];
  const held = spec.routers.find((r) => r.public_key === key);
  const drains = !held && key !== undefined && now.routesOn === target;
  const carrier = held ?? (drains ? undefined : primary);
  const other = spec.routers.find((r) => r !== carrier);
  const names = [first, second];
  const carrierSlot: Slot = drains
    ? { name: names[target]!, key }
    : slotFor(names[target]!, carrier);
  const otherSlot = slotFor(names[1 - target]!, other);
  return { slots: target === 0 ? [carrierSlot, otherSlot] : [otherSlot, carrierSlot], target };
}
