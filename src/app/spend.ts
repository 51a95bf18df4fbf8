import type { Migration } from '../core/migration.js';
import type { Reembed } from './reembed.js';

/** Tokens and cost a migration's backfill has spent so far, estimated from a sample of the collection. */
export interface SpendEstimate {
  readonly tokens: number;
  readonly cost: number;
  readonly pricePerMillionTokens: number;
  readonly tokensPerDocument: number;
  /** Documents the target holds at their current version (what was embedded for it). */
  readonly documents: number;
  /** Always true: per-document tokens are the mean over the first `sample` sources. */
  readonly estimated: true;
  readonly sample: number;
}

const SAMPLE = 200;

/**
 * Tokens per document is measured once per migration (the target model's own token count over the first
 * `SAMPLE` live sources), then multiplied by the documents the target holds — the dashboard's "tokens
 * and cost so far" without tokenising the whole collection on every refresh. Counts read the backend only.
 */
export class SpendEstimator {
  readonly #perDocument = new Map<string, Promise<number>>();

  constructor(private readonly app: Reembed) {}

  async estimate(migration: Migration, documents: number): Promise<SpendEstimate> {
    const target = await this.app.backend.catalog.getNamespace(migration.to);
    let perDocument = this.#perDocument.get(migration.id);
    if (!perDocument) {
      perDocument = this.#measure(migration);
      this.#perDocument.set(migration.id, perDocument);
      perDocument.catch(() => this.#perDocument.delete(migration.id));
    }
    const tokensPerDocument = await perDocument;
    const price = target.space.runtime.pricePerMillionTokens;
    const tokens = Math.round(tokensPerDocument * documents);
    return Object.freeze({
      tokens,
      cost: (tokens * price) / 1_000_000,
      pricePerMillionTokens: price,
      tokensPerDocument,
      documents,
      estimated: true as const,
      sample: SAMPLE,
    });
  }

  async #measure(migration: Migration): Promise<number> {
    const target = await this.app.backend.catalog.getNamespace(migration.to);
    const embedder = await this.app.embedders.get(target.space);
    const docs = await this.app.backend.sources.scan(migration.collection, { limit: SAMPLE });
    if (docs.length === 0) return 0;
    let tokens = 0;
    for (const d of docs) tokens += embedder.countTokens(d.text);
    return tokens / docs.length;
  }
}
