#!/usr/bin/env node
// `npm run docs:check`: builds the API reference with typedoc (warnings are errors: every public
// export documented, no broken links) and checks that every top-level export of every entry
// point has an @example in its doc comment. Prints what is missing; exit 1 if anything is.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'dualbert-docs-'));
const json = join(out, 'api.json');
try {
  execFileSync(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--options', join(root, 'scripts/typedoc.json'), '--json', json, '--out', join(out, 'html'), '--treatWarningsAsErrors', '--disableGit', '--sourceLinkTemplate', 'https://example.invalid/{path}#L{line}'], {
    cwd: root,
    stdio: 'inherit',
  });
  const project = JSON.parse(readFileSync(json, 'utf8'));
  const hasExample = (r) => {
    const comments = [r.comment, ...(r.signatures ?? []).map((s) => s.comment)].filter(Boolean);
    return comments.some((c) => (c.blockTags ?? []).some((t) => t.tag === '@example'));
  };
  const missing = [];
  let count = 0;
  for (const module of project.children ?? []) {
    for (const r of module.children ?? []) {
      count++;
      if (!hasExample(r)) missing.push(`${module.name}.${r.name}`);
    }
  }
  if (missing.length) {
    console.error(`docs: ${missing.length} of ${count} exports have no @example:\n  ${missing.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`docs: all ${count} exports are documented with an example`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
