import { Option } from 'commander';
import { MIGRATION_STRATEGIES, type MigrationStrategy } from '../../core/migration.js';
import { lazyAsync } from '../../platform/lazy.js';
import type { CliCommand } from '../command.js';
import { integerOption, numberOption } from '../options.js';

/** The handler, imported when the command runs (so `reembed demo --help` loads none of the demo). */
const demo = lazyAsync(() => import('../demo/main.js'), 'demo');

function strategyOf(value: unknown): MigrationStrategy | null {
  return value === 'none' ? null : (value as MigrationStrategy);
}

export const demoCommand: CliCommand = (command, bind) =>
  command
    .addOption(
      new Option(
        '--scenario <name>',
        '`upgrade`: a mixed index vs a migration (part 1, then --strategy); `deprecation`: the old model is retired, a bridge serves the new one at once, then a background re-embed and cutover',
      )
        .choices(['upgrade', 'deprecation'])
        .default('upgrade'),
    )
    .option(
      '--dataset <dir>',
      'BEIR directory (corpus.jsonl, queries.jsonl, qrels.tsv); default: a synthetic corpus',
    )
    .addOption(
      new Option(
        '--strategy <strategy>',
        'migration strategy of part 2 (`none`: stop after the mixed-index comparison; the deprecation scenario always runs a bridged lazy migration)',
      )
        .choices([...MIGRATION_STRATEGIES, 'none'])
        .default('shadow'),
    )
    .option(
      '--seed <n>',
      'seed of the synthetic corpus, the LSA fit and the migrated share',
      integerOption(0, 0xffffffff),
      42,
    )
    .option('--dimension <n>', 'dimension of both spaces (v1 hashing, v2 LSA)', integerOption(2, 4096), 256)
    .option('--docs <n>', 'synthetic corpus: documents', integerOption(20, 1_000_000), 2000)
    .option('--queries <n>', 'synthetic corpus: judged queries', integerOption(1, 100_000), 150)
    .option(
      '--migrated <percent>',
      'share of documents re-embedded to v2 in the mixed index',
      numberOption(0),
      50,
    )
    .option('--batch-size <n>', 'documents per ingest batch', integerOption(1, 100_000), 500)
    .option(
      '--traffic <n>',
      'live queries answered through the alias at each stage of the migration',
      integerOption(1, 100_000),
      50,
    )
    .option('--keep', 'keep the temporary database (or Postgres schema) and print how to explore it')
    .action(
      bind(demo, (_p, o) => ({
        ...(typeof o.dataset === 'string' ? { dataset: o.dataset } : {}),
        seed: o.seed as number,
        dimension: o.dimension as number,
        docs: o.docs as number,
        queries: o.queries as number,
        migratedShare: Math.min(100, o.migrated as number) / 100,
        batchSize: o.batchSize as number,
        strategy: strategyOf(o.strategy),
        scenario: o.scenario === 'deprecation' ? ('deprecation' as const) : ('upgrade' as const),
        traffic: o.traffic as number,
        keep: o.keep === true,
      })),
    );
