// `npm run openapi` / `npm run openapi:check`: see src/api/openapi.ts.
import { openApiCommand } from '../src/api/openapi.ts';

process.exitCode = await openApiCommand(process.argv.slice(2));
