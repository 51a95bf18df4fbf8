/**
 * Pseudo-queries for the bridge benchmark: one short text cut from each document (its title, else its
 * first sentence), embedded by the live all-MiniLM-L6-v2 (new texts have no stored vector). Cached under
 * the OS temp folder: embedding them costs minutes of CPU on this machine, once.
 *
 * Run alone to fill the cache: npx tsx bench/bridge-pseudo.ts --datasets=scifact,cranfield
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMinilmEmbedder, minilmSpace } from '../src/embedders/minilm/embedder.js';

export interface PseudoQueries {
  readonly texts: readonly string[];
  /** docs × 384, row i embeds the pseudo-query of document i. */
  readonly vectors: Float32Array;
}

export function pseudoQueryText(title: string, text: string): string {
  const t = title.trim().replace(/\s*\.$/, '');
  if (t.split(/\s+/).length >= 3) return t;
  const sentence = text.split(/(?<=[.!?])\s+/)[0] ?? text;
  return sentence.split(/\s+/).slice(0, 40).join(' ');
}

export async function loadPseudoQueries(
  sharedDir: string,
  name: string,
  log = false,
): Promise<PseudoQueries> {
  const lines = readFileSync(join(sharedDir, 'datasets', name, 'corpus.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const texts = lines.map((l) => {
    const d = JSON.parse(l) as { title?: string; text?: string };
    return pseudoQueryText(d.title ?? '', d.text ?? '');
  });
  const path = join(tmpdir(), 'reembed-bridge-cache', `${name}-pseudo-minilm.f32`);
  if (existsSync(path)) {
    const b = readFileSync(path);
    const vectors = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    if (vectors.length === texts.length * 384) return { texts, vectors };
  }
  const embedder = await createMinilmEmbedder(minilmSpace('minilm'));
  const vectors = new Float32Array(texts.length * 384);
  const started = performance.now();
  for (let i = 0; i < texts.length; i += 256) {
    const batch = await embedder.embed(texts.slice(i, i + 256), { inputType: 'query' });
    batch.forEach((v, j) => {
      vectors.set(v, (i + j) * 384);
    });
    if (log)
      console.log(
        `${name}: ${i + batch.length}/${texts.length} in ${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
  }
  await embedder.close?.();
  writeFileSync(path, Buffer.from(vectors.buffer));
  return { texts, vectors };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const shared = join(import.meta.dirname, '..', '..', 'shared');
  const arg = process.argv.find((a) => a.startsWith('--datasets='));
  for (const name of (arg?.split('=')[1] ?? 'scifact,cranfield').split(','))
    await loadPseudoQueries(shared, name, true);
}
