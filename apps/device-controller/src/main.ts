import { runService } from '@qnet/service';
import { deviceService } from './definition.js';

await runService(deviceService);
