import { runService } from '@qnet/service';
import { registryService } from './definition.js';

await runService(registryService);
