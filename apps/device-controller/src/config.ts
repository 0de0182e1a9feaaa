import { env, masterKeyConfigSpec, type ConfigOf } from '@qnet/runtime';

export const deviceConfigSpec = {
  ipv4Base: env.string('DEVICE_TUN_IPV4_BASE', {
    description: 'tunnel IPv4 pool base (the seed: 10.10.100.0)',
    default: '10.10.100.0',
  }),
  ipv4Start: env.int('DEVICE_TUN_IPV4_START', {
    description: 'first offset of the IPv4 pool',
    default: 1,
    min: 0,
  }),
  ipv4End: env.int('DEVICE_TUN_IPV4_END', {
    description: 'last offset of the IPv4 pool',
    default: 254,
    min: 0,
  }),
  ipv6Base: env.string('DEVICE_TUN_IPV6_BASE', {
    description: 'tunnel IPv6 pool base (the seed: fd00:100::)',
    default: 'fd00:100::',
  }),
  ipv6Start: env.int('DEVICE_TUN_IPV6_START', {
    description: 'first offset of the IPv6 pool',
    default: 1,
    min: 0,
  }),
  ipv6End: env.int('DEVICE_TUN_IPV6_END', {
    description: 'last offset of the IPv6 pool',
    default: 65_535,
    min: 0,
  }),
  bootstrapPsk: env.optional('DEVICE_BOOTSTRAP_PSK', {
    description:
      "the seed's default_psk: signs a device's first registration; unset, devices cannot self-register",
    secret: true,
  }),
  offlineAfterMs: env.int('DEVICE_OFFLINE_AFTER_MS', {
    description: 'a device unseen for this long is shown offline',
    default: 90_000,
    min: 100,
  }),
  pushTimeoutMs: env.int('DEVICE_PUSH_TIMEOUT_MS', {
    description: "how long push_config waits for the device agent's acknowledgement",
    default: 5_000,
    min: 10,
  }),
  httpHost: env.string('DEVICE_HTTP_HOST', {
    description: "address of the seed's controller API",
    default: '127.0.0.1',
  }),
  httpPort: env.int('DEVICE_HTTP_PORT', {
    description: "port of the seed's controller API (8090 as in the seed); 0 turns it off",
    default: 8090,
    min: 0,
    max: 65535,
  }),
  ...masterKeyConfigSpec,
};

export type DeviceConfig = ConfigOf<typeof deviceConfigSpec>;
