import { runService } from '@qnet/service';
import { lbService } from './definition.js';

await runService(lbService);
