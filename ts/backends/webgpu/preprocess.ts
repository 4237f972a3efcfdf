/**
 * The WGSL preprocessor: turns one shader file of `shaders/` plus a set of defines into the
 * source of one compiled variant. Deliberately small (ggml's WebGPU backend does the same with
 * templates): variants differ in storage type, epilogue and a few sizes, not in structure.
 *
 * - `#if NAME`, `#if !NAME`, `#elif [!]NAME`, `#else`, `#endif` (nestable) keep or drop lines.
 *   NAME must be a boolean define: a typo is an error, not a silently dropped branch.
 * - `#include NAME` inserts shaders/NAME.wgsl (preprocessed with the same defines).
 * - A prelude is prepended: `enable f16;` / `enable subgroups;` for the F16 / SUBGROUPS flags, the
 *   storage aliases `S` and `S4` (f16 or f32), and `const NAME: u32 = value;` for every numeric
 *   define, so shaders use sizes such as `BK` as ordinary constants.
 */
import { DualbertError } from '../../errors.js';
import { WGSL, type ShaderName } from './wgsl.generated.js';

/** Flags (booleans) and sizes (non-negative integers, emitted as u32 constants). */
export type Defines = Readonly<Record<string, boolean | number>>;

const DIRECTIVE = /^\s*#(if|elif|else|endif|include)\b\s*(.*)$/;

function isShaderName(name: string): name is ShaderName {
  return Object.hasOwn(WGSL, name);
}

function fail(shader: string, line: number, message: string): never {
  throw new DualbertError('INVALID_ARGUMENT', `shaders/${shader}.wgsl:${line}: ${message}`);
}

/** Evaluates `NAME` or `!NAME` against the boolean defines. */
function condition(shader: string, line: number, expr: string, defines: Defines): boolean {
  const m = /^(!?)\s*([A-Z][A-Z0-9_]*)$/.exec(expr.trim());
  if (!m) fail(shader, line, `#if takes NAME or !NAME, got "${expr.trim()}"`);
  const value = defines[m[2]!];
  if (typeof value !== 'boolean') fail(shader, line, `#if ${m[2]}: not a boolean define of this variant`);
  return m[1] === '!' ? !value : value;
}

/** The body of one shader with its directives resolved (no prelude). */
function expand(shader: string, text: string, defines: Defines, seen: readonly string[]): string[] {
  if (seen.includes(shader)) fail(shader, 0, `#include cycle: ${[...seen, shader].join(' → ')}`);
  const out: string[] = [];
  // One frame per open #if: whether the current branch is kept, and whether a branch was taken.
  const stack: { active: boolean; taken: boolean; parentActive: boolean }[] = [];
  const active = (): boolean => stack.length === 0 || stack[stack.length - 1]!.active;
  text.split('\n').forEach((source, index) => {
    const line = index + 1;
    const d = DIRECTIVE.exec(source);
    if (!d) {
      if (active()) out.push(source);
      return;
    }
    const [, kind, arg = ''] = d;
    const top = stack[stack.length - 1];
    switch (kind) {
      case 'if': {
        const parentActive = active();
        const value = parentActive && condition(shader, line, arg, defines);
        stack.push({ active: value, taken: value, parentActive });
        break;
      }
      case 'elif':
        if (!top) fail(shader, line, '#elif without #if');
        top.active = top.parentActive && !top.taken && condition(shader, line, arg, defines);
        top.taken ||= top.active;
        break;
      case 'else':
        if (!top) fail(shader, line, '#else without #if');
        top.active = top.parentActive && !top.taken;
        top.taken = true;
        break;
      case 'endif':
        if (!top) fail(shader, line, '#endif without #if');
        stack.pop();
        break;
      case 'include': {
        if (!active()) break;
        const name = arg.trim();
        if (!isShaderName(name)) fail(shader, line, `#include ${name}: no such shader`);
        out.push(...expand(name, WGSL[name], defines, [...seen, shader]));
        break;
      }
    }
  });
  if (stack.length) fail(shader, 0, 'unterminated #if');
  return out;
}

/**
 * The WGSL of one variant of a shader.
 * @example
 * preprocess('gemm', { F16: false, VEC4: true, GELU: true, RESIDUAL: false, BK: 16 })
 */
export function preprocess(shader: ShaderName, defines: Defines): string {
  return preprocessText(shader, WGSL[shader], defines);
}

/** {@link preprocess} of a given text (`shader` labels errors; `#include` still reads shaders/). */
export function preprocessText(shader: string, text: string, defines: Defines): string {
  const prelude: string[] = [];
  if (defines.F16 === true) prelude.push('enable f16;');
  if (defines.SUBGROUPS === true) prelude.push('enable subgroups;');
  const scalar = defines.F16 === true ? 'f16' : 'f32';
  prelude.push(`alias S = ${scalar};`, `alias S4 = vec4<${scalar}>;`);
  for (const [name, value] of Object.entries(defines)) {
    if (typeof value !== 'number') continue;
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new DualbertError('INVALID_ARGUMENT', `shader ${shader}: define ${name}=${value} is not a u32`);
    }
    prelude.push(`const ${name}: u32 = ${value}u;`);
  }
  return [...prelude, ...expand(shader, text, defines, [])].join('\n');
}
