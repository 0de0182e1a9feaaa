import { ValidateBy, type ValidationOptions } from 'class-validator';
import {
  isCanonicalCidr,
  isInterfaceName,
  isIp,
  isMac,
  isSubjectToken,
  isWireguardKey,
} from '@qnet/netaddr';

/** The largest value of a PostgreSQL `integer` column. */
export const INT32_MAX = 2 ** 31 - 1;

/** Field decorators for values that reach kernels, daemons and subjects. */
export const IsInterfaceName = (o?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isInterfaceName',
      validator: {
        validate: (v) => isInterfaceName(v),
        defaultMessage: () =>
          'must be a Linux interface name: 1-15 characters of A-Z a-z 0-9 _ . -',
      },
    },
    o,
  );

export const IsCanonicalCidr = (o?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isCanonicalCidr',
      validator: {
        validate: (v) => typeof v === 'string' && isCanonicalCidr(v),
        defaultMessage: () => 'must be a CIDR with host bits zero, e.g. 10.0.1.0/24',
      },
    },
    o,
  );

export const IsIpAddress = (o?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isIpAddress',
      validator: {
        validate: (v) => typeof v === 'string' && isIp(v),
        defaultMessage: () => 'must be an IPv4 or IPv6 address',
      },
    },
    o,
  );

export const IsIpv4AddressOrCidr = (o?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isIpv4AddressOrCidr',
      validator: {
        validate: (v) =>
          typeof v === 'string' && !v.includes(':') && (isIp(v) || isCanonicalCidr(v)),
        defaultMessage: () => 'must be an IPv4 address or CIDR, e.g. 10.0.0.50 or 10.0.0.64/28',
      },
    },
    o,
  );

export const IsMacAddress = (o?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isMacAddress',
      validator: {
        validate: (v) => typeof v === 'string' && isMac(v),
        defaultMessage: () => 'must be a MAC address',
      },
    },
    o,
  );

export const IsIdToken = (o?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isIdToken',
      validator: {
        validate: (v) => isSubjectToken(v),
        defaultMessage: () =>
          'must be 1-63 characters of A-Z a-z 0-9 _ - starting with a letter or digit',
      },
    },
    o,
  );

/** Free text that ends up in configs and logs: no control characters (newlines included). */
export const IsSafeText = (max: number, o?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isSafeText',
      validator: {
        validate: (v) => typeof v === 'string' && v.length <= max && !/[\p{Cc}]/u.test(v),
        defaultMessage: () =>
          `must be at most ${max} characters without control characters or newlines`,
      },
    },
    o,
  );

/** A map of printable strings with bounded keys, entry count and value length. */
function textMap(
  name: string,
  limits: { key: RegExp; maxEntries: number; maxValue: number; message: string },
) {
  return (o?: ValidationOptions) =>
    ValidateBy(
      {
        name,
        validator: {
          validate: (v) =>
            typeof v === 'object' &&
            v !== null &&
            !Array.isArray(v) &&
            Object.keys(v).length <= limits.maxEntries &&
            Object.entries(v).every(
              ([k, val]) =>
                limits.key.test(k) &&
                typeof val === 'string' &&
                val.length <= limits.maxValue &&
                !/[\p{Cc}]/u.test(val),
            ),
          defaultMessage: () => limits.message,
        },
      },
      o,
    );
}

export const IsLabels = textMap('isLabels', {
  key: /^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$/,
  maxEntries: 64,
  maxValue: 255,
  message:
    'must be a map of at most 64 string labels (keys [A-Za-z0-9_./-], values ≤ 255 characters)',
});

/** Resource names (interface-name-like tokens) to short texts: what an agent could not realize. */
export const IsRejections = textMap('isRejections', {
  key: /^[A-Za-z0-9_.:-]{1,64}$/,
  maxEntries: 4096,
  maxValue: 512,
  message: 'must map resource names to reasons of at most 512 characters',
});

export const IsWireguardKey = (o?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isWireguardKey',
      validator: {
        validate: (v) => isWireguardKey(v),
        defaultMessage: () => 'must be a WireGuard key: 32 bytes in base64, as `wg pubkey` prints',
      },
    },
    o,
  );

/** A name shown in configs and lists: a letter or digit, then letters, digits, space and _ . @ -. */
export const IsResourceName = (o?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isResourceName',
      validator: {
        validate: (v) => typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9 _.@-]{0,62}$/.test(v),
        defaultMessage: () =>
          'must be 1-63 characters: a letter or digit, then letters, digits, space, _ . @ -',
      },
    },
    o,
  );
