import { runService } from '@qnet/service';
import { tunnelService } from './definition.js';

await runService(tunnelService);
