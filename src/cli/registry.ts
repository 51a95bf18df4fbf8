import type { CliCommand } from './command.js';

/**
 * Every command of the CLI, registered lazily: `reembed --help` lists them from this table alone, and a
 * run imports only the module of the command it runs (`main.ts`), so no command pays for the others'
 * imports (charts, LanceDB, the job queue, ...). `term` and `summary` are the command's line in
 * `reembed --help`; main.ts makes every `reembed <name>` from its entry, with the summary as description, and
 * hands the invoked one to its module, which declares the arguments and options that make up the `term`
 * (test/cli/registry.test.ts checks they agree).
 *
 * Adding a command: write `src/cli/commands/<name>.ts` (see main.ts), then add one entry here.
 */
export interface CommandEntry {
  /** The first word after `reembed`. */
  readonly name: string;
  /** The left column of its line in `reembed --help`, e.g. `search [options] <alias> [text]`. */
  readonly term: string;
  /** Its description (the right column). */
  readonly summary: string;
  /** Imports the module that registers the command, with its options, arguments and handler. */
  readonly load: () => Promise<CliCommand>;
}

/** An entry of `COMMANDS`: its name is the first word of its term. */
function entry(term: string, summary: string, load: () => Promise<CliCommand>): CommandEntry {
  return { name: term.split(' ', 1)[0] as string, term, summary, load };
}

export const COMMANDS: readonly CommandEntry[] = [
  entry(
    'init',
    'create the database (a SQLite file by default) and print where it is',
    async () => (await import('./commands/init.js')).initCommand,
  ),
  entry(
    'space',
    'embedding spaces: everything that determines vector geometry',
    async () => (await import('./commands/space.js')).spaceCommand,
  ),
  entry(
    'collection',
    'collections: logical corpora with retained sources',
    async () => (await import('./commands/collection.js')).collectionCommand,
  ),
  entry(
    'alias',
    'aliases: the names applications query',
    async () => (await import('./commands/alias.js')).aliasCommand,
  ),
  entry(
    'ingest [options] <collection> <corpus>',
    'ingest a JSONL file ({id|_id, text, title?, metadata?, tenant?} per line) or a BEIR directory',
    async () => (await import('./commands/ingest.js')).ingestCommand,
  ),
  entry(
    'delete [options] <collection> [ids...]',
    'delete documents (tombstones at the source and in every active namespace)',
    async () => (await import('./commands/delete.js')).deleteCommand,
  ),
  entry(
    'search [options] <alias> [text]',
    'query through an alias by text, or by a vector of a declared space',
    async () => (await import('./commands/search.js')).searchCommand,
  ),
  entry(
    'status [collection]',
    'namespace manifests: model, records, fingerprint distribution, coverage, state, aliases',
    async () => (await import('./commands/status.js')).statusCommand,
  ),
  entry(
    'eval [options] [alias]',
    'evaluate an alias, a namespace or a migration on a golden set (recall, precision, MRR, nDCG)',
    async () => (await import('./commands/eval.js')).evalCommand,
  ),
  entry(
    'probe',
    'probe sets: a quality check built from the collection itself (known-item queries, not judged)',
    async () => (await import('./commands/probe.js')).probeCommand,
  ),
  entry(
    'monitor [options]',
    'run every monitor check once; exit 11 when an alert fires (for cron)',
    async () => (await import('./commands/monitor.js')).monitorCommand,
  ),
  entry(
    'report [options]',
    'write an HTML report (and PNG charts) of quality, coverage over time, versions, latency and traffic',
    async () => (await import('./commands/report.js')).reportCommand,
  ),
  entry(
    'plan [options] <collection>',
    'print the PostgreSQL DDL of a namespace (collection × space) without running it',
    async () => (await import('./commands/plan.js')).planCommand,
  ),
  entry(
    'demo [options]',
    'show, on a real or synthetic corpus, the recall a mixed-model index loses, then migrate v1 → v2 with a strategy under live queries',
    async () => (await import('./commands/demo.js')).demoCommand,
  ),
  entry(
    'migrate',
    'migrate an alias to another embedding space, without downtime',
    async () => (await import('./commands/migrate.js')).migrateCommand,
  ),
  entry(
    'backfill',
    're-encode sources into a namespace (resumable, rate-limited)',
    async () => (await import('./commands/backfill.js')).backfillCommand,
  ),
  entry(
    'retire',
    'retirement of old namespaces after cutover',
    async () => (await import('./commands/retire.js')).retireCommand,
  ),
  entry(
    'worker',
    'distributed backfill on PostgreSQL: run a worker, plan ranges, show progress',
    async () => (await import('./commands/worker.js')).workerCommand,
  ),
  entry(
    'audit [options]',
    'read the audit log: every control-plane change with its time and actor (--actor NAME: only entries by that actor, * is a wildcard)',
    async () => (await import('./commands/audit.js')).auditCommand,
  ),
  entry(
    'adapter',
    'bridges between embedding spaces: fit, evaluate (gate), list, show, build, revoke',
    async () => (await import('./commands/adapter.js')).adapterCommand,
  ),
  entry(
    'serve [options]',
    'run the dashboard, the HTTP API, /openapi.json and /metrics (API keys: reembed keys create)',
    async () => (await import('./commands/serve.js')).serveCommandDef,
  ),
  entry(
    'keys',
    'API keys of reembed serve: create, list, revoke',
    async () => (await import('./commands/keys.js')).keysCommand,
  ),
];
