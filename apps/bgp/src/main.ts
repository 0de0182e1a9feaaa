import { runService } from '@qnet/service';
import { bgpService } from './definition.js';

await runService(bgpService);
