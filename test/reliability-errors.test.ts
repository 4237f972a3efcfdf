/**
 * Issue #16: the README's error table lists every error code, and every listed code is one the
 * library raises (no stale rows, no undocumented codes).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DUALBERT_ERROR_CODES } from '../ts/index.js';
import { ROOT } from './helpers/build.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error codes', () => {
  it('the README error table has one row per code, in the code list', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `([A-Z_]+)` \| (.+) \|$/gm)].map((m) => m[1]!);
    expect(rows.sort()).toEqual(Object.keys(DUALBERT_ERROR_CODES).sort());
  });

  it('every code is raised somewhere in the library', () => {
    const text = sources(join(ROOT, 'ts'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    for (const code of Object.keys(DUALBERT_ERROR_CODES)) expect(text, code).toMatch(new RegExp(`'${code}'`));
    const raised = new Set([...text.matchAll(/new DualbertError\(\s*'([A-Z_]+)'/g)].map((m) => m[1]!));
    for (const code of raised) expect(Object.keys(DUALBERT_ERROR_CODES)).toContain(code);
  });
});
