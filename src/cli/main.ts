/**
 * The `reembed` command line. This is the only module that reads argv.
 *
 * Adding a command (migrate, backfill, retire, eval, monitor, report, worker, serve ...):
 * 1. Create `src/cli/commands/<name>.ts` exporting
 *    - the handler `export async function <name>(ctx: CliContext, args: <Name>Args): Promise<number>`
 *      (exit code out; print through `ctx.out`, open the app with `await ctx.app()`, report long work
 *      through `ctx.progress`, throw `ReembedError` for failures — main maps codes to exit codes), and
 *    - `export const <name>Command: CliCommand = (command, bind) => command.arguments('<arg>')
 *        .option(...).action(bind(<name>, (positionals, options) => ({ ...typed args })))`, where `command`
 *      is `reembed <name>` with its registry summary as description.
 *      Parse option values with the argParsers of `options.ts` so bad values are usage errors (exit 2).
 * 2. Add its entry to `COMMANDS` in `registry.ts` (name, help line, loader) — registry.test.ts checks it.
 * 3. Test it in-process with `main([...], io)` (see test/cli/helpers.ts).
 * Global options (`--db`, `--pg`, `--json`, `--actor`, `--quiet`) are resolved into `ctx.globals`; with
 * `--json` a command prints exactly one JSON document via `ctx.out.result(value, human)`.
 *
 * Only the command being run is imported (with its options and handler); the others are listed in the
 * help from the registry alone. Heavy libraries load where they are used, so `reembed --help` and short
 * commands start fast (bench/cli.ts).
 */
import { Command, CommanderError, Help } from 'commander';
import type { OpenOptions } from '../app/open.js';
import type { Reembed } from '../app/reembed.js';
import { exitCodeFor, ReembedError } from '../core/errors.js';
import type { ArgsOf, Bind, CommandHandler } from './command.js';
import { type AppOpener, type CliIo, createContext, resolveGlobals } from './context.js';
import { Output } from './output.js';
import { processIo } from './process-io.js';
import { COMMANDS } from './registry.js';

export { COMMANDS } from './registry.js';

/** Exit code of usage errors (unknown command or option, bad option value). */
export const USAGE_EXIT = 2;

export interface MainOptions {
  /** Opens the library facade (default `openReembed`); tests inject embedders through it. */
  readonly open?: AppOpener;
}

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
  // Built only to report a failure: `--help` never touches stderr (opening it costs a stream of its own).
  const out = (): Output =>
    new Output(io.stdout, io.stderr, { json, quiet: false, color: io.env.NO_COLOR === undefined });
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
      const ctx = createContext(io, globals, options.open ?? openLazily);
      try {
        exitCode = await handler(ctx, args);
      } finally {
        await ctx.close();
      }
    };
  try {
    const program = await buildProgram(io, bind, argv);
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      // `reembed help <command>` (exit 0); a command group run without its subcommand is a usage error.
      if (error.code === 'commander.help' && error.exitCode === 0) return 0;
      if (json) out().error('USAGE', error.message.replace(/^error: /, ''));
      return USAGE_EXIT;
    }
    if (error instanceof ReembedError) {
      out().error(error.code, error.message);
      return exitCodeFor(error);
    }
    const message = error instanceof Error ? error.message : String(error);
    out().error('INTERNAL', message);
    if (io.env.REEMBED_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

/** `openReembed`, imported on first use (`--help` and usage errors never load the app). */
async function openLazily(options: OpenOptions): Promise<Reembed> {
  const { openReembed } = await import('../app/open.js');
  return openReembed(options);
}

async function buildProgram(io: CliIo, bind: Bind, argv: readonly string[]): Promise<Command> {
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
  const invoked = invokedCommand(program, argv);
  const listed = new Map<Command, string>();
  for (const entry of COMMANDS) {
    const command = program.command(entry.name).description(entry.summary);
    if (entry.name === invoked) (await entry.load())(command, bind);
    else listed.set(command, entry.term);
  }
  const help = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => listed.get(cmd) ?? help.subcommandTerm(cmd) });
  return program;
}

/**
 * The command that `argv` runs (or asks help for: `reembed help <command>`): the first word that is
 * neither an option of the program nor an option's value. Null when there is none.
 */
export function invokedCommand(program: Command, argv: readonly string[]): string | null {
  const takesValue = new Set(
    program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short]),
  );
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return argv[i + 1] ?? null;
    if (takesValue.has(arg)) i++;
    else if (arg.startsWith('-')) continue;
    else if (arg === 'help' && !help) help = true;
    else return arg;
  }
  return null;
}
