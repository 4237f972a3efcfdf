/**
 * What the CLI commands share for reading their input: JSONL lines, the input file or stdin, and
 * usage errors (bad options), which the commands print with their usage instead of a stack trace.
 */

/** A wrong command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** One non-blank line of a JSONL input: its value, or why it is not JSON. */
export type JsonLine = { line: number; value: unknown; error?: undefined } | { line: number; error: string };

/** The non-blank lines of JSONL text, parsed (1-based line numbers; a leading UTF-8 BOM is ignored). */
export function jsonLines(content: string): JsonLine[] {
  const out: JsonLine[] = [];
  const text = content.charCodeAt(0) === 0xfeff ? content.slice(1) : content;
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    try {
      out.push({ line, value: JSON.parse(raw) });
    } catch {
      out.push({ line, error: `line ${line}: not valid JSON` });
    }
  });
  return out;
}

/** Whether a JSON value is an object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The text of `--input FILE`, or of stdin without it. */
export async function readInput(file: string | undefined): Promise<string> {
  if (file) {
    const { readFile } = await import('node:fs/promises');
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read --input ${file}: ${(e as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** An option that must be a positive integer; `fallback` when it is absent. */
export function positiveInt(value: string | boolean | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}
