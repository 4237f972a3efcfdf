/**
 * The host-side pieces of the webgpu path that need no GPU: the WGSL preprocessor and pipeline
 * keys, the generated shader module being current, and f16 conversions (the activation planner is ts/graph/plan.ts, tested in graph-plan.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KERNEL_ABI, type KernelAbi } from '../ts/backends/webgpu/abi.js';
import { fromHalfBits, toHalfArray, toHalfBits } from '../ts/half.js';
import { attentionQueriesFor, gemmTileFor, splitKFor } from '../ts/backends/webgpu/kernels.js';
import { pipelineKeyString } from '../ts/backends/webgpu/pipelines.js';
import { preprocess, preprocessText } from '../ts/backends/webgpu/preprocess.js';
import { WGSL } from '../ts/backends/webgpu/wgsl.generated.js';
import { DualbertError } from '../ts/errors.js';
import { ROOT } from './helpers/build.js';

describe('WGSL preprocessor', () => {
  it('#if / #elif / #else / #endif, nested', () => {
    const text = ['a', '#if A', 'b', '#if !B', 'c', '#else', 'd', '#endif', '#elif B', 'e', '#else', 'f', '#endif', 'g'].join('\n');
    const body = (A: boolean, B: boolean): string => preprocessText('t', text, { A, B }).split('\n').slice(2).join('');
    expect(body(true, false)).toBe('abcg');
    expect(body(true, true)).toBe('abdg');
    expect(body(false, true)).toBe('aeg');
    expect(body(false, false)).toBe('afg');
    expect(() => preprocessText('t', '#if A\nx', { A: true })).toThrow(/unterminated #if/);
    expect(() => preprocessText('t', '#else', {})).toThrow(/t\.wgsl:1: #else without #if/);
    expect(() => preprocessText('t', '#include nothing', {})).toThrow(/no such shader/);
  });

  it('keeps the branches of the gemm variant asked for', () => {
    const code = preprocess('gemm', { F16: false, WH: false, VEC4: true, SPLITK: false, GELU: true, RESIDUAL: false, BK: 16, TM: 4, TM8: false, TN: 4, TN8: false });
    expect(code).toContain('const BK: u32 = 16u;');
    expect(code).toContain('alias S = f32;');
    expect(code).toContain('array<S4>');
    expect(code).not.toContain('var<storage, read> x: array<S>;');
    expect(code).not.toMatch(/As\[[^\]]*\]\[/); // no single-component stores into workgroup vec4s
    expect(code).toContain('v = gelu4(v);');
    expect(code).not.toContain('res[');
    expect(code).not.toMatch(/^\s*#/m);
    expect(code).not.toContain('acc7');
    expect(code).not.toContain('bcc0'); // one vec4 of columns per invocation (TN 4)
    const scalar = preprocess('gemm', { F16: true, WH: false, VEC4: false, SPLITK: false, GELU: false, RESIDUAL: true, BK: 32, TM: 8, TM8: true, TN: 8, TN8: true });
    expect(scalar).toContain('acc7');
    expect(scalar).toContain('bcc7'); // TN 8: a second vec4 of columns, 64 to the right
    expect(scalar).toContain('const BN: u32 = 16u * TN;');
    expect(scalar.split('\n')[0]).toBe('enable f16;');
    expect(scalar).toContain('alias S = f16;');
    expect(scalar).toContain('v += f32(res[row * p.m + c]);');
    expect(scalar).not.toContain('gelu4(v)');
    // f16 weights on any adapter: wt is u32 pairs, unpacked to f32; no f16 extension needed.
    const half = preprocess('gemm', { F16: false, WH: true, VEC4: true, SPLITK: false, GELU: false, RESIDUAL: false, BK: 16, TM: 4, TM8: false, TN: 4, TN8: false });
    expect(half).toContain('var<storage, read> wt: array<u32>;');
    expect(half).toContain('unpack2x16float(wt[i])');
    expect(half).not.toContain('enable f16;');
  });

  it('inlines #include with the same defines', () => {
    const sg = preprocess('layernorm', { F16: false, SUBGROUPS: true, WG: 128 });
    expect(sg).toContain('enable subgroups;');
    expect(sg).toContain('subgroupAdd(v)');
    expect(sg).toContain('fn workgroupSum');
    const tree = preprocess('layernorm', { F16: false, SUBGROUPS: false, WG: 128 });
    expect(tree).not.toContain('subgroup');
    expect(tree).toContain('for (var stride = WG / 2u;');
  });

  it('rejects an undefined flag, a bad directive and a non-u32 size', () => {
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(DualbertError);
        return (e as Error).message;
      }
      throw new Error('expected a throw');
    };
    expect(code(() => preprocess('gemm', { F16: false, WH: false, SPLITK: false, GELU: true, RESIDUAL: false, BK: 16, TM: 4, TM8: false }))).toMatch(/gemm\.wgsl:\d+: #if VEC4: not a boolean define/);
    expect(code(() => preprocess('pool', { F16: false, WG: 1.5, MEAN: true, CLS: false, MAX: false }))).toMatch(/WG=1.5 is not a u32/);
  });

  it('pipeline keys name the variant, independent of define order', () => {
    expect(pipelineKeyString({ shader: 'gemm', defines: { VEC4: true, BK: 16, F16: false, GELU: true, RESIDUAL: false } })).toBe('gemm:BK=16,F16=0,GELU=1,RESIDUAL=0,VEC4=1');
    expect(pipelineKeyString({ shader: 'gemm', defines: { RESIDUAL: false, GELU: true, F16: false, BK: 16, VEC4: true } })).toBe('gemm:BK=16,F16=0,GELU=1,RESIDUAL=0,VEC4=1');
  });

  it('ts/backends/webgpu/wgsl.generated.ts is current with shaders/*.wgsl', () => {
    // Throws (exit 1) when stale: run `npm run build:shaders`.
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-shaders.mjs'), '--check'], { stdio: 'pipe' });
    expect(Object.keys(WGSL)).toEqual(expect.arrayContaining(['gemm', 'attention', 'layernorm', 'normalize', 'embed', 'pool', 'reduce']));
  });
});

describe('split-K choice', () => {
  const config = { f16: false, halfWeights: false, subgroups: false, gemmBK: 16, gemmTM: 4, gemmTN: 4, splitK: true, gemmTileByRows: false, attentionKeys: 32, attentionQueries: 1, attentionQueriesByLength: false, workgroupStorage: 16384, workgroupsPerDimension: 65535 } as const;
  it('splits long K when the output has few tiles, in whole K tiles, never for big outputs', () => {
    expect(splitKFor(config, 16, 1536, 384)).toEqual({ splits: 6, kc: 256 });
    expect(splitKFor(config, 5, 1040, 12)).toEqual({ splits: 4, kc: 272 });
    expect(splitKFor(config, 32768, 1536, 384)).toEqual({ splits: 1, kc: 1536 });
    expect(splitKFor(config, 16, 384, 1152)).toEqual({ splits: 1, kc: 384 });
    expect(splitKFor({ ...config, splitK: false }, 16, 1536, 384).splits).toBe(1);
    expect(splitKFor(config, 16, 1537, 384).splits).toBe(1); // K % 4: the scalar path does not split
  });
});

describe('kernel variants by shape (the defaults measured on the H200)', () => {
  const config = { f16: false, halfWeights: false, subgroups: false, gemmBK: 16, gemmTM: 4, gemmTN: 4, splitK: true, gemmTileByRows: true, attentionKeys: 32, attentionQueries: 1, attentionQueriesByLength: true, workgroupStorage: 16384, workgroupsPerDimension: 65535 } as const;
  it('GEMM tiles grow with the rows; a fixed tile wins over the rule', () => {
    expect(gemmTileFor(config, 16)).toEqual({ tm: 4, tn: 4 });
    expect(gemmTileFor(config, 4096)).toEqual({ tm: 4, tn: 4 });
    expect(gemmTileFor(config, 16384)).toEqual({ tm: 8, tn: 4 });
    expect(gemmTileFor(config, 32768)).toEqual({ tm: 8, tn: 8 });
    expect(gemmTileFor({ ...config, gemmTileByRows: false }, 32768)).toEqual({ tm: 4, tn: 4 });
    // The split-K decision counts the tiles of the chosen variant.
    expect(splitKFor(config, 32768, 1536, 384).splits).toBe(1);
  });
  it('attention reads each key for two queries from 128 tokens', () => {
    expect(attentionQueriesFor(config, 16)).toBe(1);
    expect(attentionQueriesFor(config, 128)).toBe(2);
    expect(attentionQueriesFor({ ...config, attentionQueriesByLength: false, attentionQueries: 4 }, 512)).toBe(4);
  });
});

describe('f16 conversion', () => {
  it('round-trips every finite f16 exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue; // Inf / NaN
      expect(toHalfBits(fromHalfBits(bits))).toBe(bits === 0x8000 ? 0x8000 : bits);
    }
  });

  it('rounds to nearest even, overflows to Infinity, keeps subnormals', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie: stays even
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie: rounds up to even
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00);
    expect(toHalfBits(-1e6)).toBe(0xfc00);
    expect(toHalfBits(2 ** -24)).toBe(0x0001);
    expect(toHalfBits(2 ** -26)).toBe(0x0000);
    expect(fromHalfBits(0x0001)).toBe(2 ** -24);
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
    expect(Array.from(toHalfArray([0.5, -2]))).toEqual([0x3800, 0xc000]);
  });
});


describe('kernel interfaces (ts/backends/webgpu/abi.ts) match the shaders', () => {
  const shaderText = (name: string): string => readFileSync(join(ROOT, 'shaders', `${name}.wgsl`), 'utf8');
  it.each(Object.keys(KERNEL_ABI))('%s: every binding and Params field as declared', (name) => {
    const abi = KERNEL_ABI[name as keyof typeof KERNEL_ABI] as KernelAbi;
    const text = shaderText(name);
    // Every `@binding(N) var<storage…> name` in every #if branch of the shader.
    const bindings = new Map<string, number>();
    for (const m of text.matchAll(/@binding\((\d+)\)\s+var<([^>]+)>\s+(\w+)\s*:/g)) {
      if (m[2] === 'uniform') {
        expect(Number(m[1]), `${name}: the uniform is binding 0`).toBe(0);
        continue;
      }
      const previous = bindings.get(m[3]!);
      if (previous !== undefined) expect(Number(m[1]), `${name}: ${m[3]} in every variant`).toBe(previous);
      bindings.set(m[3]!, Number(m[1]));
    }
    expect(Object.fromEntries(bindings)).toEqual(abi.bindings);
    const struct = /struct Params \{([^}]*)\}/.exec(text);
    expect(struct, `${name} declares struct Params`).not.toBeNull();
    const fields = [...struct![1]!.matchAll(/^\s*(\w+)\s*:/gm)].map((m) => m[1]);
    expect(fields).toEqual(abi.params);
  });

  it('every kernel shader is declared (the rest are snippets other shaders include)', () => {
    const kernels = readdirSync(join(ROOT, 'shaders'))
      .map((f) => f.replace(/\.wgsl$/, ''))
      .filter((n) => shaderText(n).includes('@compute'));
    expect(kernels.sort()).toEqual(Object.keys(KERNEL_ABI).sort());
  });
});
