/**
 * The README's code works as written. Every ```js block runs (all in one Node process, each in its
 * own block scope) against the synthetic models with no network: `hf:` model names are replaced
 * by `synthetic:minilm` and HF_ENDPOINT points at a closed port, so a download would fail. Blocks
 * marked `<!-- readme-test: syntax (why) -->` (a page, a server, a package we do not install) are
 * parsed only. Every shell line in README.md and CONTRIBUTING.md must name an npm script, a
 * dualbert subcommand with options it has, a file that exists, or a known tool; the dualbert
 * lines on synthetic models are run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureDistBuilt } from './helpers/build.js';

interface Block {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** From a `<!-- readme-test: MODE ... -->` comment right above the fence. */
  mode: 'run' | 'syntax' | undefined;
}

/** The fenced code blocks of a Markdown file. */
function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(indent));
    let above = start - 1;
    while (above >= 0 && lines[above]!.trim() === '') above--;
    const marker = above >= 0 ? /<!-- readme-test: (run|syntax)\b/.exec(lines[above]!) : null;
    blocks.push({ file, line: start + 1, lang: open[2]!, code: body.join('\n'), mode: (marker?.[1] as Block['mode']) ?? undefined });
  }
  return blocks;
}

const readme = blocksOf('README.md');
const docs = [...readme, ...blocksOf('CONTRIBUTING.md')];
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const work = mkdtempSync(join(tmpdir(), 'dualbert-readme-'));
const DUALBERT = join(ROOT, 'bin/dualbert.js');

/** Node's environment for the examples: no GPU driver hints, no reachable hub. */
function exampleEnv(): NodeJS.ProcessEnv {
  const { VK_ICD_FILENAMES: _a, VK_DRIVER_FILES: _b, LD_LIBRARY_PATH: _c, ...env } = process.env;
  return { ...env, HF_ENDPOINT: 'http://127.0.0.1:9', DUALBERT_CACHE: join(work, 'cache') };
}

beforeAll(() => ensureDistBuilt());
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** One module of all runnable blocks: their imports merged, each body in its own scope. */
function programOf(blocks: Block[]): string {
  const named = new Map<string, Set<string>>();
  const defaults = new Map<string, string>();
  const bodies: string[] = [];
  for (const b of blocks) {
    const body: string[] = [];
    for (const line of b.code.split('\n')) {
      const imp = /^import\s+(?:(\w+)\s*,?\s*)?(?:\{([^}]*)\})?\s*from\s+'([^']+)';?\s*(\/\/.*)?$/.exec(line);
      if (!imp) {
        body.push(line.replace(/'hf:[^']+'/g, "'synthetic:minilm'"));
        continue;
      }
      const [, def, names, spec] = imp;
      if (def) defaults.set(spec!, def);
      for (const n of (names ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!named.has(spec!)) named.set(spec!, new Set());
        named.get(spec!)!.add(n);
      }
      body.push('');
    }
    bodies.push(`// ${b.file}:${b.line}\ntry {\n${body.join('\n')}\n  done.push(${b.line});\n} catch (e) {\n  failed.push({ line: ${b.line}, error: String(e?.stack ?? e) });\n}`);
  }
  const imports = [...new Set([...named.keys(), ...defaults.keys()])].map((spec) => {
    const parts = [defaults.get(spec), named.has(spec) ? `{ ${[...named.get(spec)!].join(', ')} }` : undefined].filter(Boolean);
    return `import ${parts.join(', ')} from '${spec}';`;
  });
  return `${imports.join('\n')}\nconst done = [];\nconst failed = [];\n${bodies.join('\n\n')}\nprocess.stderr.write('\\nREADME-RESULT ' + JSON.stringify({ done, failed }) + '\\n', () => process.exit(0));\n`;
}

describe('README code blocks', () => {
  const runnable = readme.filter((b) => b.lang === 'js' && b.mode !== 'syntax');
  const parsedOnly = docs.filter((b) => (b.lang === 'js' && b.mode === 'syntax') || b.lang === 'html');

  it('has the sections a user looks for, and no stale line', () => {
    const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const heading of ['## Install', '## Three examples', '## Models', '## Encoder families', '## Devices and precision', '## Errors', '## Benchmarks']) {
      expect(text, heading).toContain(`\n${heading}`);
    }
    expect(text).toContain('npm install && npm run demo');
    expect(text).toContain('N passed, N failed, N skipped');
    expect(text).not.toMatch(/\(next\)|TODO|TBD/);
    // The benchmark figures say when and on what they were measured.
    const bench = text.slice(text.indexOf('\n## Benchmarks'));
    expect(bench).toMatch(/measured \d{4}-\d{2}-\d{2}/);
    expect(bench).toMatch(/NVIDIA H\d00/);
    // Every file the README names as a result exists.
    for (const [, path] of text.matchAll(/`(bench\/results\/[\w.-]+)`/g)) expect(existsSync(join(ROOT, path!)), path).toBe(true);
    expect(runnable.length).toBeGreaterThanOrEqual(6);
  });

  it('every js block runs against the synthetic models, offline', () => {
    const dir = join(ROOT, 'test', 'artifacts'); // inside the package, so `import 'dualbert'` resolves to it
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'readme-blocks.mjs');
    writeFileSync(file, programOf(runnable));
    const r = spawnSync(process.execPath, [file], { cwd: work, env: exampleEnv(), encoding: 'utf8', timeout: 240_000 });
    const result = /README-RESULT (.*)/.exec(r.stderr);
    expect(result, `exit ${r.status}: ${r.stderr.slice(-3000)}`).not.toBeNull();
    const { done, failed } = JSON.parse(result![1]!) as { done: number[]; failed: { line: number; error: string }[] };
    expect(failed.map((f) => `README.md:${f.line}: ${f.error}`)).toEqual([]);
    expect(done).toEqual(runnable.map((b) => b.line));
    // No native library noise from any of them.
    expect(r.stderr.replace(/\nREADME-RESULT .*\n/, '')).not.toMatch(/Vulkan|vkCreateInstance/);
  });

  it('the blocks that cannot run here parse', () => {
    expect(parsedOnly.length).toBeGreaterThan(0);
    for (const b of parsedOnly) {
      const code = b.lang === 'html' ? (/<script type="module">([\s\S]*?)<\/script>/.exec(b.code)?.[1] ?? '') : b.code;
      expect(code.trim(), `${b.file}:${b.line}`).not.toBe('');
      const file = join(work, `block-${b.line}.mjs`);
      writeFileSync(file, code);
      const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
      expect(r.status, `${b.file}:${b.line}: ${r.stderr}`).toBe(0);
    }
  });

  it('every shell line names an npm script, a dualbert command and its options, or a file', () => {
    const problems: string[] = [];
    for (const b of docs.filter((x) => x.lang === 'sh')) {
      for (const [n, command] of shellCommands(b.code)) {
        const problem = checkCommand(command);
        if (problem) problems.push(`${b.file}:${b.line + n + 1}: ${command.join(' ')}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the dualbert commands on synthetic models run', () => {
    writeFileSync(join(work, 'texts.jsonl'), '{"text": "A man is eating food."}\n{"text": "A man rides a horse."}\n');
    writeFileSync(join(work, 'pairs.jsonl'), '{"query": "Who rides?", "document": "A man rides a horse."}\n');
    let ran = 0;
    for (const b of readme.filter((x) => x.lang === 'sh')) {
      for (const raw of joinContinuations(b.code)) {
        const line = stripComment(raw);
        const runs = /\bdualbert (embed|tokenize|info|rerank)\b.*--model synthetic:/.test(line) || /^echo .*> \w+\.jsonl$/.test(line);
        if (!runs) continue;
        // synthetic:tiny for synthetic:minilm: the same commands, a smaller model (the test is of the command line).
        const command = line.replace(/\bnpx dualbert\b/g, `"${process.execPath}" "${DUALBERT}"`).replace(/synthetic:minilm/g, 'synthetic:tiny');
        const r = spawnSync('bash', ['-c', command], { cwd: work, env: exampleEnv(), encoding: 'utf8', timeout: 120_000 });
        expect(r.status, `README.md:${b.line}: ${line}\n${r.stderr}`).toBe(0);
        expect(r.stderr, line).toBe('');
        ran++;
      }
    }
    expect(ran).toBeGreaterThanOrEqual(6);
  });
});

/** Lines with their `\` continuations joined. */
function joinContinuations(code: string): string[] {
  return code.replace(/\\\n\s*/g, ' ').split('\n');
}

/** A line without its trailing `# comment` (a `#` outside quotes, after a space). */
function stripComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i).trim();
  }
  return line.trim();
}

/** Simple commands of a shell block, as words (split on && || ; | and parentheses), with their line index. */
function shellCommands(code: string): [number, string[]][] {
  const out: [number, string[]][] = [];
  joinContinuations(code).forEach((raw, n) => {
    const line = stripComment(raw);
    if (!line) return;
    const words = line.match(/&&|\|\||[;|()]|(?:'[^']*'|"[^"]*"|[^\s;|()'"])+/g) ?? [];
    let current: string[] = [];
    for (const w of [...words, ';']) {
      if (['&&', '||', ';', '|', '(', ')'].includes(w)) {
        while (current.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(current[0]!)) current.shift(); // VAR=value prefixes
        if (current.length) out.push([n, current]);
        current = [];
      } else current.push(w);
    }
  });
  return out;
}

/** Tools the docs may name without a check of their own (they are not part of dualbert). */
const EXTERNAL_TOOLS = new Set(['echo', 'printf', 'curl', 'docker', 'systemctl', 'mkdir', 'cd', 'apt-get', 'xz', 'tar', 'ls']);
const helpCache = new Map<string, string>();

function helpOf(sub: string): string | undefined {
  if (!helpCache.has(sub)) {
    try {
      helpCache.set(sub, execFileSync(process.execPath, [DUALBERT, sub, '--help'], { encoding: 'utf8' }));
    } catch {
      helpCache.set(sub, '');
    }
  }
  return helpCache.get(sub) || undefined;
}

/** Why a command in the docs is wrong, or undefined. */
function checkCommand(words: string[]): string | undefined {
  const [cmd, ...args] = words;
  if (cmd === 'npm') {
    if (args[0] === 'install' || args[0] === 'ci' || args[0] === 'test') return undefined;
    if (args[0] === 'run') return pkg.scripts[args[1] ?? ''] ? undefined : `no npm script "${args[1]}"`;
    return `unknown npm command "${args[0]}"`;
  }
  if (cmd === 'npx' || cmd === 'dualbert' || cmd?.endsWith('/dualbert')) {
    const rest = cmd === 'npx' ? args : words.slice(1);
    if (cmd === 'npx' && rest.shift() !== 'dualbert') return 'npx of something other than dualbert';
    const sub = rest[0] ?? '';
    if (sub === '--help') return undefined;
    const help = helpOf(sub);
    if (!help) return `no dualbert subcommand "${sub}"`;
    const unknown = rest.filter((w) => /^--[a-z]/.test(w)).map((w) => w.split('=')[0]!).filter((f) => !new RegExp(`${f}\\b`).test(help));
    return unknown.length ? `options not in \`dualbert ${sub} --help\`: ${unknown.join(', ')}` : undefined;
  }
  if (cmd === 'node' || cmd === 'bash') {
    const file = args.find((a) => !a.startsWith('-'));
    return file && existsSync(join(ROOT, file)) ? undefined : `no file "${file}"`;
  }
  if (cmd && EXTERNAL_TOOLS.has(cmd)) return undefined;
  return `unknown command "${cmd}" (add a check for it in test/readme.test.ts)`;
}
