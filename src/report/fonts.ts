import { existsSync } from 'node:fs';

/**
 * Fonts for PNG rendering. resvg draws no text without a font, and its generic `sans-serif` maps to Arial
 * by default, which Linux servers rarely have; so the first installed family of a short list is loaded by
 * file and made the sans-serif family. On Debian/Ubuntu, `fonts-dejavu-core` provides DejaVu Sans.
 */
export interface ChartFonts {
  /** Family used for `sans-serif`, or null when no known font file exists (text may be missing in PNGs). */
  readonly family: string | null;
  readonly files: readonly string[];
}

const CANDIDATES: readonly { family: string; files: readonly string[] }[] = [
  {
    family: 'DejaVu Sans',
    files: [
      '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
      '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
    ],
  },
  {
    family: 'DejaVu Sans',
    files: ['/usr/share/fonts/dejavu/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf'],
  },
  {
    family: 'DejaVu Sans',
    files: [
      '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf',
      '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf',
    ],
  },
  {
    family: 'Liberation Sans',
    files: [
      '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
      '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf',
    ],
  },
  {
    family: 'Arial',
    files: [
      '/System/Library/Fonts/Supplemental/Arial.ttf',
      '/System/Library/Fonts/Supplemental/Arial Bold.ttf',
    ],
  },
  { family: 'Arial', files: ['C:\\Windows\\Fonts\\arial.ttf', 'C:\\Windows\\Fonts\\arialbd.ttf'] },
];

/** The Debian package that provides the preferred font, named in warnings. */
export const FONT_PACKAGE = 'fonts-dejavu-core';

let found: ChartFonts | undefined;

export function findChartFonts(): ChartFonts {
  if (found) return found;
  for (const candidate of CANDIDATES) {
    const files = candidate.files.filter((f) => existsSync(f));
    if (files.length > 0) {
      found = Object.freeze({ family: candidate.family, files: Object.freeze(files) });
      return found;
    }
  }
  found = Object.freeze({ family: null, files: Object.freeze([]) });
  return found;
}
