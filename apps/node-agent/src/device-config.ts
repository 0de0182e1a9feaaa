import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { QnetError, type DeviceConfigCommand, type PushConfigResponse } from '@qnet/contracts';

export const DEVICE_CONFIG_FILE = 'device-config.json';

/**
 * The config the device controller pushes (POST /push_config): written atomically, 0600 (it may
 * hold secrets), to the agent's state directory, where the device's own software reads it.
 */
export async function storeDeviceConfig(
  stateDir: string,
  hostId: string,
  cmd: DeviceConfigCommand,
): Promise<PushConfigResponse> {
  if (cmd?.device_id !== hostId)
    throw QnetError.invalid('device_id', `must be this agent's host id ${hostId}`);
  if (typeof cmd.config !== 'object' || cmd.config === null || Array.isArray(cmd.config))
    throw QnetError.invalid('config', 'must be an object');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, DEVICE_CONFIG_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(cmd.config, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
  return { device_id: hostId, acknowledged: true, applied_at: new Date().toISOString() };
}
