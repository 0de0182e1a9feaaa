import { env, masterKeyConfigSpec, type ConfigOf } from '@qnet/runtime';

export const bgpConfigSpec = {
  allowedPrefixes: env.string('BGP_ALLOWED_PREFIXES', {
    description:
      "admin allow-list (comma-separated CIDRs) a speaker may advertise besides its project's registry networks",
    default: '',
  }),
  ...masterKeyConfigSpec,
};

export type BgpConfig = ConfigOf<typeof bgpConfigSpec>;
