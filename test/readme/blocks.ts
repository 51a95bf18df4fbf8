/**
 * README.md as a test: its fenced `sh` and `ts` blocks, with the markers (HTML comments right before a
 * block) that say how to run them. The convention, also in README "Development":
 *
 *   <!-- readme-test: skip — why -->             the block is not run (the reason is printed)
 *   <!-- readme-test: needs VAR — why -->        it runs only when the environment sets VAR
 *   <!-- readme-test: skip-line TEXT — why -->   its lines containing TEXT are not run
 *   <!-- readme-test: exit N COMMAND -->         its command COMMAND (as written, without its comment) must exit N
 *   <!-- readme-test: in-repo -->                it runs in the repository, not in the scratch directory
 *
 * Markers apply to the next fenced block; blank lines may separate them from it, prose may not. A marker
 * that does not parse, or that matches no line, is an error (a README edit must not silently disable it).
 */

export type BlockLanguage = 'sh' | 'ts';

export interface ShellCommand {
  /** 1-based line of README.md where the command starts. */
  readonly line: number;
  /** The command as bash runs it (continuation lines joined). */
  readonly text: string;
  readonly expectedExit: number;
  /** Why the command is not run, when it is not. */
  readonly skip: string | null;
}

export interface ReadmeBlock {
  readonly language: BlockLanguage;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  /** The block is not run, for this reason. */
  readonly skip: string | null;
  /** Environment variables the block needs (it is skipped without them). */
  readonly needs: readonly { readonly variable: string; readonly reason: string }[];
  readonly inRepo: boolean;
  /** Shell blocks: the commands, with what each must do. */
  readonly commands: readonly ShellCommand[];
}

type Marker =
  | { kind: 'skip'; reason: string }
  | { kind: 'needs'; variable: string; reason: string }
  | { kind: 'skip-line'; text: string; reason: string }
  | { kind: 'exit'; code: number; text: string }
  | { kind: 'in-repo' };

const LANGUAGES: Readonly<Record<string, BlockLanguage>> = {
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
  ts: 'ts',
  typescript: 'ts',
};

/** `TEXT — why` (an em dash, or ` -- `, separates the reason). */
function withReason(rest: string): { head: string; reason: string } {
  const m = /^(.*?)\s+(?:—|--)\s+(.+)$/.exec(rest);
  return m
    ? { head: (m[1] as string).trim(), reason: (m[2] as string).trim() }
    : { head: rest.trim(), reason: '' };
}

export function parseMarker(comment: string, line: number): Marker {
  const body = /^<!--\s*readme-test:\s*(.*?)\s*-->$/.exec(comment.trim())?.[1];
  const fail = (why: string): never => {
    throw new Error(`README.md:${line}: ${why}: ${comment.trim()}`);
  };
  if (body === undefined) return fail('not a readme-test marker');
  const [verb = '', ...restWords] = body.split(/\s+/);
  const rest = restWords.join(' ');
  switch (verb) {
    case 'skip': {
      const reason = rest.replace(/^(?:—|--)\s*/, '').trim();
      return reason ? { kind: 'skip', reason } : fail('skip needs a reason');
    }
    case 'needs': {
      const { head, reason } = withReason(rest);
      return /^[A-Z_][A-Z0-9_]*$/.test(head) && reason
        ? { kind: 'needs', variable: head, reason }
        : fail('write needs VAR — why');
    }
    case 'skip-line': {
      const { head, reason } = withReason(rest);
      return head && reason ? { kind: 'skip-line', text: head, reason } : fail('write skip-line TEXT — why');
    }
    case 'exit': {
      const m = /^(\d+)\s+(.+)$/.exec(rest);
      return m
        ? { kind: 'exit', code: Number(m[1]), text: (m[2] as string).trim() }
        : fail('write exit N TEXT');
    }
    case 'in-repo':
      return rest === '' ? { kind: 'in-repo' } : fail('in-repo takes nothing');
    default:
      return fail(`unknown marker "${verb}"`);
  }
}

/** The command without a trailing `# comment` (a `#` outside quotes, after whitespace), trimmed. */
export function withoutComment(command: string): string {
  let quote: string | null = null;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i] as string;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"') i++;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '\\') i++;
    else if (ch === '#' && (i === 0 || /\s/.test(command[i - 1] as string)))
      return command.slice(0, i).trim();
  }
  return command.trim();
}

/** Joins continuation lines (`\` at the end) and drops blank and comment-only lines. */
function commandsOf(code: string, firstLine: number): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let pending: { line: number; text: string } | null = null;
  code.split('\n').forEach((raw, i) => {
    const line = firstLine + i;
    const continued = /\\\s*$/.test(raw);
    const piece = continued ? raw.replace(/\\\s*$/, '') : raw;
    if (pending) pending.text += ` ${piece.trim()}`;
    else if (piece.trim() !== '' && !piece.trim().startsWith('#')) pending = { line, text: piece };
    if (!continued && pending) {
      out.push(pending);
      pending = null;
    }
  });
  if (pending) out.push(pending);
  return out;
}

export function parseReadme(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  let markers: { marker: Marker; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string;
    const fence = /^(\s*)(```+|~~~+)\s*([\w-]*)/.exec(text);
    if (fence) {
      const close = fence[2] as string;
      const start = i;
      let end = i + 1;
      while (end < lines.length && !(lines[end] as string).trim().startsWith(close)) end++;
      const language = LANGUAGES[(fence[3] ?? '').toLowerCase()];
      const code = lines.slice(start + 1, end).join('\n');
      if (language) blocks.push(blockOf(language, start + 1, code, markers));
      else if (markers.length > 0)
        throw new Error(`README.md:${start + 1}: markers before a block that is not run`);
      markers = [];
      i = end;
    } else if (/^\s*<!--\s*readme-test:/.test(text)) {
      markers.push({ marker: parseMarker(text, i + 1), line: i + 1 });
    } else if (text.trim() !== '' && markers.length > 0) {
      throw new Error(`README.md:${markers[0]?.line}: a readme-test marker must be followed by a code block`);
    }
  }
  return blocks;
}

function blockOf(
  language: BlockLanguage,
  line: number,
  code: string,
  markers: readonly { marker: Marker; line: number }[],
): ReadmeBlock {
  const skip = markers.find((m) => m.marker.kind === 'skip')?.marker as { reason: string } | undefined;
  const needs = markers.flatMap((m) =>
    m.marker.kind === 'needs' ? [{ variable: m.marker.variable, reason: m.marker.reason }] : [],
  );
  const lineMarkers = markers.filter((m) => m.marker.kind === 'skip-line' || m.marker.kind === 'exit');
  const commands =
    language === 'sh'
      ? commandsOf(code, line + 1).map((c): ShellCommand => {
          let expectedExit = 0;
          let skipReason: string | null = null;
          for (const { marker } of lineMarkers) {
            if (marker.kind === 'skip-line' && c.text.includes(marker.text)) skipReason = marker.reason;
            if (marker.kind === 'exit' && withoutComment(c.text) === marker.text) expectedExit = marker.code;
          }
          return { line: c.line, text: c.text, expectedExit, skip: skipReason };
        })
      : [];
  for (const { marker, line: at } of lineMarkers) {
    const text = (marker as { text: string }).text;
    const matches = (c: ShellCommand): boolean =>
      marker.kind === 'exit' ? withoutComment(c.text) === text : c.text.includes(text);
    if (!commands.some(matches))
      throw new Error(`README.md:${at}: marker matches no command of the next block: "${text}"`);
  }
  return {
    language,
    line,
    code,
    skip: skip?.reason ?? null,
    needs,
    inRepo: markers.some((m) => m.marker.kind === 'in-repo'),
    commands,
  };
}
