import type { Command } from 'commander';
import type { CliContext } from './context.js';

/** A command's body: typed arguments in, exit code out. It never touches argv or process streams. */
export type CommandHandler<A> = (ctx: CliContext, args: A) => Promise<number>;

/**
 * Turns commander's action arguments into a handler's typed `args`: `positionals` are the declared
 * arguments in order, `options` the command's own options (globals live in `ctx.globals`).
 */
export type ArgsOf<A> = (positionals: readonly unknown[], options: Readonly<Record<string, unknown>>) => A;

/** Wraps a handler as a commander action; main.ts supplies it (it builds the context and keeps the exit code). */
export type Bind = <A>(
  handler: CommandHandler<A>,
  toArgs: ArgsOf<A>,
) => (...actionArgs: unknown[]) => Promise<void>;

/**
 * One command module's contribution to the program: given `reembed <name>` — made by main.ts from the
 * command's registry entry, with its summary as description — it declares the command's arguments,
 * options and subcommands and binds each action to its handler.
 *
 * @example
 * export const initCommand: CliCommand = (command, bind) => command.action(bind(init, () => ({})));
 */
export type CliCommand = (command: Command, bind: Bind) => void;
