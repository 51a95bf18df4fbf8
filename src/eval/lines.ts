import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ReembedError } from '../core/errors.js';

/**
 * Streams a text file line by line (LF or CRLF, UTF-8 BOM stripped) so large judgment files never sit in
 * memory whole. `onLine` gets the 1-based line number for error messages; blank lines are passed too.
 */
export async function forEachLine(
  file: string,
  onLine: (line: string, lineNumber: number) => void,
): Promise<number> {
  await assertFile(file);
  const input = createReadStream(file, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNumber = 0;
  try {
    for await (const raw of rl) {
      lineNumber++;
      onLine(lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw, lineNumber);
    }
  } finally {
    rl.close();
    input.destroy();
  }
  return lineNumber;
}

/** Throws `NOT_FOUND` naming the path when it is missing or not a regular file. */
export async function assertFile(file: string): Promise<void> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) {
    throw new ReembedError('NOT_FOUND', `File ${file} does not exist or is not a file; check the path.`, {
      details: { file },
    });
  }
}

export async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

export async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}
