import { callerScope, inScope, type SqlTx } from '@qnet/persistence';

/** Who holds an address: a NIC, or a reservation made for another service (an LB's VIP). */
export interface AddressOwner {
  kind: 'nic' | 'reservation';
  id: string;
}

/** A network's usable offsets: from its network address, [first, last] minus reserved ranges. */
export interface OffsetRange {
  network: string;
  first: bigint;
  last: bigint;
  reserved: { lo: bigint; hi: bigint }[];
}

const rangeParams = (r: OffsetRange) => [
  r.network,
  r.first.toString(),
  r.last.toString(),
  r.reserved.map((x) => x.lo.toString()),
  r.reserved.map((x) => x.hi.toString()),
];

/** `o` (an offset from $2) is in [$3, $4] and in no reserved range ($5, $6). */
const IN_RANGE = `o BETWEEN $3::bigint AND $4::bigint
  AND NOT EXISTS (SELECT 1 FROM unnest($5::bigint[], $6::bigint[]) AS r(lo, hi) WHERE o BETWEEN r.lo AND r.hi)`;

/** ip_allocations (who holds which address) and ip_releases (when each was last freed). */
export const ipAllocations = {
  async insert(tx: SqlTx, networkId: string, address: string, owner: AddressOwner): Promise<void> {
    await tx.rows(
      `INSERT INTO ip_allocations (network_id, address, owner_kind, owner_id) VALUES ($1, $2, $3, $4)`,
      [networkId, address, owner.kind, owner.id],
    );
  },

  /**
   * The lowest offset in range that is neither allocated nor ever released. Candidates are the
   * first offset and the one after each taken address or range, so this reads the allocations
   * once instead of walking the whole block.
   */
  async lowestUnusedOffset(
    tx: SqlTx,
    networkId: string,
    range: OffsetRange,
  ): Promise<bigint | undefined> {
    const [row] = await tx.rows<{ o: string | null }>(
      `SELECT min(o)::text AS o FROM (
         SELECT $3::bigint AS o
         UNION ALL SELECT (a.address - $2::inet) + 1 FROM ip_allocations a WHERE a.network_id = $1
         UNION ALL SELECT (r.address - $2::inet) + 1 FROM ip_releases r WHERE r.network_id = $1
         UNION ALL SELECT hi + 1 FROM unnest($6::bigint[]) AS hi
       ) c
       WHERE ${IN_RANGE}
         AND NOT EXISTS (SELECT 1 FROM ip_allocations a WHERE a.network_id = $1 AND a.address = $2::inet + o)
         AND NOT EXISTS (SELECT 1 FROM ip_releases r WHERE r.network_id = $1 AND r.address = $2::inet + o)`,
      [networkId, ...rangeParams(range)],
    );
    return row?.o == null ? undefined : BigInt(row.o);
  },

  /** The free offset in range released longest ago. */
  async oldestReleasedOffset(
    tx: SqlTx,
    networkId: string,
    range: OffsetRange,
  ): Promise<bigint | undefined> {
    const [row] = await tx.rows<{ o: string }>(
      `SELECT o::text AS o FROM (
         SELECT r.address - $2::inet AS o, r.released_at, r.address FROM ip_releases r
         WHERE r.network_id = $1
           AND NOT EXISTS (SELECT 1 FROM ip_allocations a WHERE a.network_id = $1 AND a.address = r.address)
       ) c
       WHERE ${IN_RANGE}
       ORDER BY released_at, address LIMIT 1`,
      [networkId, ...rangeParams(range)],
    );
    return row ? BigInt(row.o) : undefined;
  },

  /** Who holds a reserved address (undefined: no reservation holds it). */
  async reservationHolder(
    tx: SqlTx,
    networkId: string,
    address: string,
  ): Promise<string | undefined> {
    const [row] = await tx.rows<{ owner_id: string }>(
      `SELECT owner_id FROM ip_allocations
       WHERE network_id = $1 AND address = $2 AND owner_kind = 'reservation'`,
      [networkId, address],
    );
    return row?.owner_id;
  },

  /** Frees a reservation of the owner's, in a network the caller's scope can see. */
  async releaseReservation(
    tx: SqlTx,
    r: { network_id: string; address: string; owner_id: string },
  ): Promise<void> {
    await tx.rows(
      `DELETE FROM ip_allocations a USING networks n
       WHERE a.network_id = $1 AND a.address = $2 AND a.owner_kind = 'reservation'
         AND a.owner_id = $3 AND n.id = a.network_id AND ${inScope('n.project_id', 4)}`,
      [r.network_id, r.address, r.owner_id, callerScope()],
    );
  },
};
