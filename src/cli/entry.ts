/**
 * Runs the CLI from source (`node --import tsx src/cli/entry.ts ...`), as bin/reembed.js does from dist/.
 * Tests spawn it to check real exit codes and output streams.
 */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
