import { runService } from '@qnet/service';
import { vpnService } from './definition.js';

await runService(vpnService);
