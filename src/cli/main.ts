/**
 * The `reembed` command line. This is the only module that reads argv.
 *
 * Adding a command (migrate, backfill, retire, eval, monitor, report, worker, serve ...):
 * 1. Create `src/cli/commands/<name>.ts` exporting
 *    - the handler `export async function <name>(ctx: CliContext, args: <Name>Args): Promise<number>`
 *      (exit code out; print through `ctx.out`, open the app with `await ctx.app()`, report long work
 *      through `ctx.progress`, throw `ReembedError` for failures — main maps codes to exit codes), and
 *    - `export const <name>Command: CliCommand = { register: (program, bind) => program.command('<name> <arg>')
 *        .description(...).option(...).action(bind(<name>, (positionals, options) => ({ ...typed args }))) }`.
 *      Parse option values with the argParsers of `options.ts` so bad values are usage errors (exit 2).
 * 2. Add `<name>Command` to `COMMANDS` below — one line.
 * 3. Test it in-process with `main([...], io)` (see test/cli/helpers.ts).
 * Global options (`--db`, `--pg`, `--json`, `--actor`, `--quiet`) are resolved into `ctx.globals`; with
 * `--json` a command prints exactly one JSON document via `ctx.out.result(value, human)`.
 */
import { Command, CommanderError } from 'commander';
import { openReembed } from '../app/open.js';
import { exitCodeFor, ReembedError } from '../core/errors.js';
import type { ArgsOf, Bind, CliCommand, CommandHandler } from './command.js';
import { aliasCommand } from './commands/alias.js';
import { auditCommand } from './commands/audit.js';
import { backfillCommand } from './commands/backfill.js';
import { collectionCommand } from './commands/collection.js';
import { deleteCommand } from './commands/delete.js';
import { demoCommand } from './commands/demo.js';
import { evalCommand } from './commands/eval.js';
import { ingestCommand } from './commands/ingest.js';
import { initCommand } from './commands/init.js';
import { migrateCommand } from './commands/migrate.js';
import { monitorCommand } from './commands/monitor.js';
import { planCommand } from './commands/plan.js';
import { probeCommand } from './commands/probe.js';
import { reportCommand } from './commands/report.js';
import { retireCommand } from './commands/retire.js';
import { searchCommand } from './commands/search.js';
import { spaceCommand } from './commands/space.js';
import { statusCommand } from './commands/status.js';
import { workerCommand } from './commands/worker.js';
import { type AppOpener, type CliIo, createContext, resolveGlobals } from './context.js';
import { Output } from './output.js';

export const COMMANDS: readonly CliCommand[] = [
  initCommand,
  spaceCommand,
  collectionCommand,
  aliasCommand,
  ingestCommand,
  deleteCommand,
  searchCommand,
  statusCommand,
  evalCommand,
  probeCommand,
  monitorCommand,
  reportCommand,
  planCommand,
  demoCommand,
  migrateCommand,
  backfillCommand,
  retireCommand,
  workerCommand,
  auditCommand,
];

/** Exit code of usage errors (unknown command or option, bad option value). */
export const USAGE_EXIT = 2;

export interface MainOptions {
  /** Opens the library facade (default `openReembed`); tests inject embedders through it. */
  readonly open?: AppOpener;
}

const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});

/**
 * Runs one CLI invocation and returns its exit code (bin/reembed.js passes `process.argv.slice(2)`).
 * Never throws and never calls `process.exit`.
 */
export async function main(
  argv: readonly string[],
  io: CliIo = processIo(),
  options: MainOptions = {},
): Promise<number> {
  const json = argv.includes('--json');
  const out = new Output(io.stdout, io.stderr, { json, quiet: false, color: io.env.NO_COLOR === undefined });
  let exitCode = 0;
  const bind: Bind =
    <A>(handler: CommandHandler<A>, toArgs: ArgsOf<A>) =>
    async (...actionArgs: unknown[]): Promise<void> => {
      const command = actionArgs[actionArgs.length - 1] as Command;
      const positionals = actionArgs.slice(0, -2);
      const own = command.opts();
      const globals = resolveGlobals(
        command.optsWithGlobals(),
        io,
        command.getOptionValueSourceWithGlobals('db') === 'cli',
      );
      const args = toArgs(positionals, own);
      const ctx = createContext(io, globals, options.open ?? openReembed);
      try {
        exitCode = await handler(ctx, args);
      } finally {
        await ctx.close();
      }
    };
  const program = buildProgram(io, bind);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      if (json) out.error('USAGE', error.message.replace(/^error: /, ''));
      return USAGE_EXIT;
    }
    if (error instanceof ReembedError) {
      out.error(error.code, error.message);
      return exitCodeFor(error);
    }
    const message = error instanceof Error ? error.message : String(error);
    out.error('INTERNAL', message);
    if (io.env.REEMBED_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

function buildProgram(io: CliIo, bind: Bind): Command {
  const program = new Command('reembed')
    .description('Change embedding models without downtime and without silent recall loss.')
    .option('--db <file>', 'SQLite database file', 'reembed.db')
    .option('--pg <url>', 'PostgreSQL URL (pgvector backend); default $REEMBED_PG_URL unless --db is given')
    .option(
      '--lancedb <uri>',
      'LanceDB URI for vectors (catalog stays in --db); default $REEMBED_LANCEDB_URI',
    )
    .option('--json', 'print one JSON document (errors as {"error":{"code","message"}})')
    .option('--actor <name>', 'who is acting, recorded in the audit log (default $USER)')
    .option('--quiet', 'no progress bars or notes')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    });
  for (const command of COMMANDS) command.register(program, bind);
  return program;
}
