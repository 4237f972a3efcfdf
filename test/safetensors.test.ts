/** The safetensors reader: values, dtypes, and a clear error for every kind of broken file. */
import { describe, expect, it } from 'vitest';
import { DualbertError } from '../ts/errors.js';
import { bindWeights } from '../ts/graph/weights.js';
import { readSafetensors, writeSafetensors } from '../ts/model/safetensors.js';

/** Builds a safetensors file from a raw header object and data bytes. */
function rawFile(header: object, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const u16 = (values: number[]): Uint8Array => {
  const b = new Uint8Array(values.length * 2);
  values.forEach((v, i) => new DataView(b.buffer).setUint16(i * 2, v, true));
  return b;
};

function expectError(fn: () => unknown, code: string, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DualbertError);
    expect((e as DualbertError).code).toBe(code);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an error');
}

describe('safetensors', () => {
  it('round-trips float32 tensors written by writeSafetensors', () => {
    const a = { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 1e-30, -0, 65504]) };
    const b = { shape: [4], data: Float32Array.from([Math.PI, Math.E, -1, 0]) };
    const file = writeSafetensors(new Map([['a', a], ['b', b]]), { format: 'pt' });
    const read = readSafetensors(file);
    expect(read.get('a')!.shape).toEqual([2, 3]);
    expect(Array.from(read.get('a')!.data)).toEqual(Array.from(a.data));
    expect(Array.from(read.get('b')!.data)).toEqual(Array.from(b.data));
  });

  it('widens F16 (normal, subnormal, max, inf) and BF16 exactly', () => {
    const f16 = u16([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0x8000]);
    const bf16 = u16([0x3f80, 0xc049, 0x0000]);
    const data = new Uint8Array(f16.length + bf16.length);
    data.set(f16);
    data.set(bf16, f16.length);
    const file = rawFile(
      {
        h: { dtype: 'F16', shape: [7], data_offsets: [0, f16.length] },
        b: { dtype: 'BF16', shape: [3], data_offsets: [f16.length, data.length] },
      },
      data,
    );
    const read = readSafetensors(file);
    expect(Array.from(read.get('h')!.data)).toEqual([1, -2, 0.5, 65504, 2 ** -24, Infinity, -0]);
    expect(Array.from(read.get('b')!.data)).toEqual([1, Math.fround(-3.140625), 0]);
  });

  it('skips tensors the rename function drops and renames the rest', () => {
    const t = { shape: [1], data: Float32Array.from([7]) };
    const file = writeSafetensors(new Map([['bert.x', t], ['cls.y', t]]));
    const read = readSafetensors(file, { rename: (n) => (n.startsWith('bert.') ? n.slice(5) : undefined) });
    expect([...read.keys()]).toEqual(['x']);
  });

  it('rejects a file too short for a header', () => {
    expectError(() => readSafetensors(new Uint8Array(4)), 'INVALID_WEIGHTS', /too short/);
  });

  it('rejects a header length beyond the file (e.g. a pickle or a truncated file)', () => {
    const bytes = new TextEncoder().encode('PK\x03\x04 this is a zip, not safetensors');
    expectError(() => readSafetensors(bytes), 'INVALID_WEIGHTS', /header length .* does not fit/);
  });

  it('rejects a header that is not JSON', () => {
    const bytes = new Uint8Array(8 + 4);
    new DataView(bytes.buffer).setBigUint64(0, 4n, true);
    bytes.set(new TextEncoder().encode('{oops'.slice(0, 4)), 8);
    expectError(() => readSafetensors(bytes), 'INVALID_WEIGHTS', /not valid UTF-8 JSON/);
  });

  it('rejects offsets outside the data buffer (truncated file)', () => {
    const file = rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8));
    expectError(() => readSafetensors(file), 'INVALID_WEIGHTS', /outside the 8-byte data buffer/);
  });

  it('rejects a size that does not match shape × dtype', () => {
    const file = rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, new Uint8Array(16));
    expectError(() => readSafetensors(file), 'INVALID_WEIGHTS', /has 16 bytes, but shape \[3\] × F32 needs 12/);
  });

  it('rejects overlapping tensors', () => {
    const file = rawFile(
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
      new Uint8Array(12),
    );
    expectError(() => readSafetensors(file), 'INVALID_WEIGHTS', /overlap/);
  });

  it('rejects invalid shapes and offsets', () => {
    const bad1 = rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4));
    expectError(() => readSafetensors(bad1), 'INVALID_WEIGHTS', /invalid shape/);
    const bad2 = rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, new Uint8Array(4));
    expectError(() => readSafetensors(bad2), 'INVALID_WEIGHTS', /outside|invalid data_offsets/);
  });

  it('names an unsupported dtype', () => {
    const file = rawFile({ w: { dtype: 'I8', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4));
    expectError(() => readSafetensors(file), 'UNSUPPORTED_DTYPE', /dtype I8/);
  });

  it('binding names a missing tensor and a wrong shape', () => {
    const specs = [{ name: 'w', shape: [2, 2], role: 'linear' as const }];
    expectError(() => bindWeights(specs, new Map()), 'INVALID_WEIGHTS', /"w" is missing/);
    const wrong = new Map([['w', { shape: [4], data: new Float32Array(4) }]]);
    expectError(() => bindWeights(specs, wrong), 'INVALID_WEIGHTS', /shape \[4\], the config needs \[2, 2\]/);
  });

  it('binding concatenates fused tensors in order', () => {
    const parts = new Map(['q', 'k', 'v'].map((n, i) => [n, { shape: [1, 2], data: Float32Array.from([i, i + 0.5]) }]));
    const bound = bindWeights([{ name: 'qkv', shape: [3, 2], role: 'linear', concatOf: ['q', 'k', 'v'] }], parts);
    expect(Array.from(bound.get('qkv')!.data)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
  });
});
