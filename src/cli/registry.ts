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

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'init',
    term: 'init',
    summary: 'create the database (a SQLite file by default) and print where it is',
    load: async () => (await import('./commands/init.js')).initCommand,
  },
  {
    name: 'space',
    term: 'space',
    summary: 'embedding spaces: everything that determines vector geometry',
    load: async () => (await import('./commands/space.js')).spaceCommand,
  },
  {
    name: 'collection',
    term: 'collection',
    summary: 'collections: logical corpora with retained sources',
    load: async () => (await import('./commands/collection.js')).collectionCommand,
  },
  {
    name: 'alias',
    term: 'alias',
    summary: 'aliases: the names applications query',
    load: async () => (await import('./commands/alias.js')).aliasCommand,
  },
  {
    name: 'ingest',
    term: 'ingest [options] <collection> <corpus>',
    summary: 'ingest a JSONL file ({id|_id, text, title?, metadata?, tenant?} per line) or a BEIR directory',
    load: async () => (await import('./commands/ingest.js')).ingestCommand,
  },
  {
    name: 'delete',
    term: 'delete [options] <collection> [ids...]',
    summary: 'delete documents (tombstones at the source and in every active namespace)',
    load: async () => (await import('./commands/delete.js')).deleteCommand,
  },
  {
    name: 'search',
    term: 'search [options] <alias> [text]',
    summary: 'query through an alias by text, or by a vector of a declared space',
    load: async () => (await import('./commands/search.js')).searchCommand,
  },
  {
    name: 'status',
    term: 'status [collection]',
    summary: 'namespace manifests: model, records, fingerprint distribution, coverage, state, aliases',
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
  {
    name: 'eval',
    term: 'eval [options] [alias]',
    summary: 'evaluate an alias, a namespace or a migration on a golden set (recall, precision, MRR, nDCG)',
    load: async () => (await import('./commands/eval.js')).evalCommand,
  },
  {
    name: 'probe',
    term: 'probe',
    summary: 'probe sets: a quality check built from the collection itself (known-item queries, not judged)',
    load: async () => (await import('./commands/probe.js')).probeCommand,
  },
  {
    name: 'monitor',
    term: 'monitor [options]',
    summary: 'run every monitor check once; exit 11 when an alert fires (for cron)',
    load: async () => (await import('./commands/monitor.js')).monitorCommand,
  },
  {
    name: 'report',
    term: 'report [options]',
    summary:
      'write an HTML report (and PNG charts) of quality, coverage over time, versions, latency and traffic',
    load: async () => (await import('./commands/report.js')).reportCommand,
  },
  {
    name: 'plan',
    term: 'plan [options] <collection>',
    summary: 'print the PostgreSQL DDL of a namespace (collection × space) without running it',
    load: async () => (await import('./commands/plan.js')).planCommand,
  },
  {
    name: 'demo',
    term: 'demo [options]',
    summary:
      'show, on a real or synthetic corpus, the recall a mixed-model index loses, then migrate v1 → v2 with a strategy under live queries',
    load: async () => (await import('./commands/demo.js')).demoCommand,
  },
  {
    name: 'migrate',
    term: 'migrate',
    summary: 'migrate an alias to another embedding space, without downtime',
    load: async () => (await import('./commands/migrate.js')).migrateCommand,
  },
  {
    name: 'backfill',
    term: 'backfill',
    summary: 're-encode sources into a namespace (resumable, rate-limited)',
    load: async () => (await import('./commands/backfill.js')).backfillCommand,
  },
  {
    name: 'retire',
    term: 'retire',
    summary: 'retirement of old namespaces after cutover',
    load: async () => (await import('./commands/retire.js')).retireCommand,
  },
  {
    name: 'worker',
    term: 'worker',
    summary: 'distributed backfill on PostgreSQL: run a worker, plan ranges, show progress',
    load: async () => (await import('./commands/worker.js')).workerCommand,
  },
  {
    name: 'audit',
    term: 'audit [options]',
    summary:
      'read the audit log: every control-plane change with its time and actor (--actor NAME: only entries by that actor, * is a wildcard)',
    load: async () => (await import('./commands/audit.js')).auditCommand,
  },
  {
    name: 'adapter',
    term: 'adapter',
    summary: 'bridges between embedding spaces: fit, evaluate (gate), list, show, build, revoke',
    load: async () => (await import('./commands/adapter.js')).adapterCommand,
  },
  {
    name: 'serve',
    term: 'serve [options]',
    summary: 'run the dashboard, the HTTP API, /openapi.json and /metrics (API keys: reembed keys create)',
    load: async () => (await import('./commands/serve.js')).serveCommandDef,
  },
  {
    name: 'keys',
    term: 'keys',
    summary: 'API keys of reembed serve: create, list, revoke',
    load: async () => (await import('./commands/keys.js')).keysCommand,
  },
];
