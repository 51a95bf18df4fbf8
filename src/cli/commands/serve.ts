import { ReembedError } from '../../core/errors.js';
import { lazyAsync } from '../../platform/lazy.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../server/limits.js';
import type { CliCommand } from '../command.js';
import { integerOption, numberOption } from '../options.js';

/** The handler, imported when the command runs (so `reembed serve --help` loads no HTTP framework). */
const serveCommand = lazyAsync(() => import('./serve-run.js'), 'serveCommand');

export const serveCommandDef: CliCommand = (command, bind) =>
  command
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', integerOption(0, 65_535), 8080)
    .option(
      '--max-body <bytes>',
      'largest request body accepted',
      integerOption(1024),
      DEFAULT_MAX_BODY_BYTES,
    )
    .option('--rate-limit <n>', 'requests per second per API key (0: no limit)', numberOption(0), 200)
    .option(
      '--monitor-every <seconds>',
      'run the monitor for /metrics every N seconds (0: never)',
      numberOption(0),
      60,
    )
    .option(
      '--coverage-every <seconds>',
      "while a backfill runs, sample its namespaces' coverage every N seconds (the dashboard chart; 0: never)",
      numberOption(0),
      10,
    )
    .option(
      '--quality-every <seconds>',
      'evaluate unfinished migrations old vs new on their golden or probe set every N seconds (0: never)',
      numberOption(0),
      600,
    )
    .option('--drain <seconds>', 'on shutdown, wait this long for requests in flight', numberOption(0), 10)
    .option('--access-log', 'one line per request on stderr (never keys, bodies or query texts)')
    .action(
      bind(serveCommand, (_p, o) => {
        if (typeof o.host !== 'string' || o.host.length === 0)
          throw new ReembedError('INVALID_INPUT', '--host needs a host name or address.');
        return {
          host: o.host,
          port: o.port as number,
          maxBodyBytes: o.maxBody as number,
          rateLimit: o.rateLimit as number,
          monitorSeconds: o.monitorEvery as number,
          coverageSeconds: o.coverageEvery as number,
          qualitySeconds: o.qualityEvery as number,
          drainSeconds: o.drain as number,
          accessLog: o.accessLog === true,
        };
      }),
    );
