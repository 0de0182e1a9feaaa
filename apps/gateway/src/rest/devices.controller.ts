import { DeviceRpc } from '@qnet/contracts';
import { restController } from './rest-routes.js';

const DEVICE = { id: 'device_id' };

/** Seed 004's controller API for operators (gateway auth); devices sign requests to the controller's own port. */
export const DevicesRestController = restController({
  name: 'DevicesRestController',
  tag: 'devices',
  base: 'api/v1/devices',
  routes: {
    list: {
      verb: 'GET',
      path: '',
      from: 'query',
      rpc: DeviceRpc.ListDevices,
      summary: 'List devices (filters: type, status; page_size, page_token)',
    },
    register: {
      verb: 'POST',
      path: '',
      rpc: DeviceRpc.RegisterDevice,
      summary: 'Register a device: tunnel IPv4 and IPv6 from the pools; its PSK once',
    },
    topology: {
      verb: 'GET',
      path: 'topology',
      rpc: DeviceRpc.GetTopology,
      summary: 'Devices as nodes, endpoint → primary/backup router edges',
    },
    get: {
      verb: 'GET',
      path: ':id',
      params: DEVICE,
      rpc: DeviceRpc.GetDevice,
      summary: 'Get a device',
    },
    delete: {
      verb: 'DELETE',
      path: ':id',
      params: DEVICE,
      status: 204,
      rpc: DeviceRpc.DeleteDevice,
      summary: 'Delete a device; its tunnel addresses are freed',
    },
    config: {
      verb: 'POST',
      path: ':id/config',
      params: DEVICE,
      status: 200,
      rpc: DeviceRpc.UpdateDeviceConfig,
      summary: "Replace a device's configuration",
    },
    status: {
      verb: 'POST',
      path: ':id/status',
      params: DEVICE,
      status: 200,
      rpc: DeviceRpc.UpdateDeviceStatus,
      summary: "Record a device's status",
    },
    push: {
      verb: 'POST',
      path: ':id/push-config',
      params: DEVICE,
      status: 200,
      rpc: DeviceRpc.PushConfig,
      summary: "Send the config to the device's agent; its acknowledgement, or 504",
    },
  },
});
