import { defined } from '../core/defined.js';
import { ReembedError } from '../core/errors.js';
import { type GoldenSet, unknownDocIds, unknownGoldenSet } from '../core/golden.js';
import { isDirectory, isFile } from '../eval/lines.js';
import { type LoadGoldenOptions, loadGoldenSet } from '../eval/load-golden.js';
import { type Backend, requireRepository } from '../ports/backend.js';
import type { GoldenSetInfo, GoldenSetRepository } from '../ports/evaluation-sets.js';

/**
 * Golden sets by reference: a path (BEIR directory or JSONL file) is loaded, anything else is looked up by
 * name in the backend's golden-set repository. Gates, `reembed eval` and the migration engine all resolve
 * golden sets through here, so `--golden scifact` means the same thing everywhere.
 */
export function requireGoldenSets(backend: Backend): GoldenSetRepository {
  return requireRepository(
    backend,
    'goldenSets',
    'does not store golden sets; pass the golden set as a path instead.',
  );
}

export interface ResolveGoldenOptions extends Pick<LoadGoldenOptions, 'split' | 'checkCorpus'> {
  /** Store the set under this name after loading it (same content again is a no-op). */
  readonly saveAs?: string;
  /** Replace a stored set of the `saveAs` name that has other content. */
  readonly replace?: boolean;
  readonly actor?: string;
}

export interface ResolvedGoldenSet {
  readonly golden: GoldenSet;
  /** `file` when loaded from a path, `catalog` when read by name. */
  readonly from: 'file' | 'catalog';
  readonly source: string;
  /** Set when `saveAs` stored it. */
  readonly saved: GoldenSetInfo | null;
}

/**
 * @example
 * const { golden } = await resolveGoldenSet(app.backend, '../shared/datasets/scifact', { saveAs: 'scifact' });
 * const again = await resolveGoldenSet(app.backend, 'scifact'); // same digest
 */
export async function resolveGoldenSet(
  backend: Backend,
  ref: string,
  options: ResolveGoldenOptions = {},
): Promise<ResolvedGoldenSet> {
  let golden: GoldenSet;
  let from: ResolvedGoldenSet['from'];
  if ((await isDirectory(ref)) || (await isFile(ref))) {
    golden = await loadGoldenSet(
      ref,
      defined({ split: options.split, checkCorpus: options.checkCorpus, name: options.saveAs }),
    );
    from = 'file';
  } else {
    const repository = backend.goldenSets;
    if (!repository || /[/\\]|\.jsonl?$/i.test(ref)) {
      throw new ReembedError(
        'NOT_FOUND',
        `Golden set ${ref} not found: no such file or directory${repository ? ' and no stored set of that name' : ''}. ` +
          'Give a BEIR directory, a .jsonl file or the name of a stored set.',
        { details: { ref } },
      );
    }
    const known = await repository.list();
    if (!known.some((g) => g.name === ref))
      throw unknownGoldenSet(
        ref,
        known.map((g) => g.name),
      );
    golden = await repository.get(ref);
    from = 'catalog';
  }
  let saved: GoldenSetInfo | null = null;
  if (options.saveAs) {
    saved = await requireGoldenSets(backend).save(
      options.saveAs,
      golden,
      defined({ source: ref, replace: options.replace, actor: options.actor }),
    );
  }
  return Object.freeze({ golden, from, source: ref, saved });
}

/** How many distinct documents a golden set judges, and how many of them the collection holds live. */
export async function judgedDocsHeld(
  backend: Backend,
  collection: string,
  golden: GoldenSet,
): Promise<{ judged: number; held: number }> {
  const { judged, live } = await judgedLive(backend, collection, golden);
  return { judged, held: live.size };
}

async function judgedLive(
  backend: Backend,
  collection: string,
  golden: GoldenSet,
): Promise<{ judged: number; live: Set<string> }> {
  const judged = [...new Set(Object.values(golden.qrels).flatMap((j) => Object.keys(j)))];
  const live = new Set<string>();
  for (let i = 0; i < judged.length; i += 500) {
    const found = await backend.sources.getMany(collection, judged.slice(i, i + 500));
    for (const [id, doc] of found) if (!doc.deleted) live.add(id);
  }
  return { judged: judged.length, live };
}

/**
 * Refuses to evaluate a golden set whose judged documents the collection does not hold (live at the
 * source): such a set scores every system low and makes every comparison meaningless. Names the first ids.
 */
export async function assertJudgedDocsKnown(
  backend: Backend,
  collection: string,
  golden: GoldenSet,
): Promise<void> {
  const { judged, live } = await judgedLive(backend, collection, golden);
  const unknown = unknownDocIds(golden, live, 10);
  if (unknown.length === 0) return;
  const missing = judged - live.size;
  throw new ReembedError(
    'INVALID_INPUT',
    `Golden set "${golden.name}" judges ${missing} of ${judged} documents that collection "${collection}" does not hold ` +
      `(e.g. ${unknown.map((id) => `"${id}"`).join(', ')}). Ingest the corpus the judgments refer to, or pass --allow-unknown-docs to score them as misses.`,
    { details: { collection, golden: golden.name, missing, judged, examples: unknown } },
  );
}
