import { Injectable } from '@nestjs/common';
import { QnetError } from '@qnet/contracts';
import {
  addressAt,
  cidrContainsIp,
  isNetworkOrBroadcast,
  offsetOf,
  parseCidr,
  usableOffsets,
} from '@qnet/netaddr';
import type { SqlTx } from '@qnet/persistence';
import { parseReservedRanges } from './ipam.js';
import type { NetworkRow } from './network.repository.js';

/** Who holds an address: a NIC, or a reservation made for another service (an LB's VIP). */
export interface AddressOwner {
  kind: 'nic' | 'reservation';
  id: string;
}

/**
 * IPAM of one network: hands out the requested host address, or else the lowest address never
 * used, or else the one freed longest ago (ip_releases), so an address does not change hands
 * while others are free. The (network, address) primary key of ip_allocations is what makes two
 * concurrent requests for the same address end in one winner.
 */
@Injectable()
export class AddressAllocator {
  /** `field` names the caller's request field in errors. */
  async allocate(
    tx: SqlTx,
    network: Pick<NetworkRow, 'id' | 'cidr' | 'reserved_ranges'>,
    requested: string | undefined,
    owner: AddressOwner,
    field: string,
  ): Promise<string> {
    const cidr = parseCidr(network.cidr!);
    const reserved = parseReservedRanges(network.reserved_ranges, cidr);
    let address: string;
    if (requested) {
      if (!cidrContainsIp(cidr, requested))
        throw QnetError.invalid(field, `${requested} is not inside ${cidr.text}`);
      if (isNetworkOrBroadcast(cidr, requested))
        throw QnetError.invalid(field, `${requested} is the network or broadcast address`);
      const o = offsetOf(cidr, requested);
      if (reserved.some((r) => o >= r.lo && o <= r.hi))
        throw QnetError.invalid(field, `${requested} is in a reserved range`);
      address = requested;
    } else {
      const { first, last } = usableOffsets(cidr);
      const range = { network: addressAt(cidr, 0n), first, last, reserved };
      const o =
        (await lowestUnusedOffset(tx, network.id, range)) ??
        (await oldestReleasedOffset(tx, network.id, range));
      if (o === undefined)
        throw new QnetError(
          'aborted',
          `${field}: no free address left in ${cidr.text} (pool exhausted)`,
          [{ field, message: 'pool exhausted' }],
        );
      address = addressAt(cidr, o);
    }
    await tx.rows(
      `INSERT INTO ip_allocations (network_id, address, owner_kind, owner_id) VALUES ($1, $2, $3, $4)`,
      [network.id, address, owner.kind, owner.id],
    );
    return address;
  }
}

interface OffsetRange {
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

/**
 * The lowest offset in range that is neither allocated nor ever released. Candidates are the
 * first offset and the one after each taken address or range, so this reads the allocations once
 * instead of walking the whole block.
 */
async function lowestUnusedOffset(
  tx: SqlTx,
  networkId: string,
  range: OffsetRange,
): Promise<bigint | undefined> {
  const rows: { o: string | null }[] = await tx.rows(
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
  return rows[0]?.o == null ? undefined : BigInt(rows[0].o);
}

/** The free offset in range released longest ago. */
async function oldestReleasedOffset(
  tx: SqlTx,
  networkId: string,
  range: OffsetRange,
): Promise<bigint | undefined> {
  const rows: { o: string }[] = await tx.rows(
    `SELECT o::text AS o FROM (
       SELECT r.address - $2::inet AS o, r.released_at, r.address FROM ip_releases r
       WHERE r.network_id = $1
         AND NOT EXISTS (SELECT 1 FROM ip_allocations a WHERE a.network_id = $1 AND a.address = r.address)
     ) c
     WHERE ${IN_RANGE}
     ORDER BY released_at, address LIMIT 1`,
    [networkId, ...rangeParams(range)],
  );
  return rows[0] ? BigInt(rows[0].o) : undefined;
}
