/**
 * Quantized embeddings with the semantics of sentence-transformers' `quantize_embeddings`, value
 * for value (checked against its outputs in test/output.test.ts):
 * - `int8` / `uint8`: per dimension, a range [start, end] cut into 255 steps,
 *   q = clip(floor((x − start) / step), 0, 255), step = (end − start) / 255 (1 where the range is
 *   empty); uint8 is q, int8 is q − 128. The ranges are given by the caller, or the min and max of
 *   calibration embeddings, or of the embeddings themselves. The arithmetic is float32, as numpy
 *   does it on float32 embeddings.
 * - `ubinary`: the bits x > 0 packed 8 per byte, most significant bit first (numpy `packbits`),
 *   the last byte padded with zero bits: `dims = [n, ⌈d/8⌉]`. `binary`: those bytes − 128, as int8.
 * Legend: n embeddings of d dimensions, row-major.
 */
import { DualbertError } from '../errors.js';

/**
 * Precision of returned embeddings (sentence-transformers `precision`).
 * @example await embedder.embed(texts, { precision: 'ubinary' });   // Uint8Array, dims [n, d/8]
 */
export type EmbeddingPrecision = 'float32' | 'int8' | 'uint8' | 'binary' | 'ubinary';

/**
 * Every precision, in sentence-transformers' order.
 * @example for (const precision of EMBEDDING_PRECISIONS) console.log(precision, (await embedder.embed(texts, { precision })).data.byteLength);
 */
export const EMBEDDING_PRECISIONS: readonly EmbeddingPrecision[] = ['float32', 'int8', 'uint8', 'binary', 'ubinary'];

/**
 * The typed array a precision is returned in.
 * @example const codes: DataOf<'binary'> = new Int8Array(48);
 */
export type DataOf<P extends EmbeddingPrecision> = P extends 'int8' | 'binary' ? Int8Array : P extends 'uint8' | 'ubinary' ? Uint8Array : Float32Array;

/**
 * Embeddings as a row-major matrix in any precision.
 * @example const m: EmbeddingMatrix = { data: new Float32Array(6), dims: [2, 3] };
 */
export interface EmbeddingMatrix<D extends Float32Array | Int8Array | Uint8Array = Float32Array | Int8Array | Uint8Array> {
  data: D;
  dims: [number, number];
}

/**
 * Calibration of int8/uint8: `ranges` as sentence-transformers takes them (`[starts, ends]`, one
 * value per dimension each), or `calibration` embeddings whose per-dimension min and max are the
 * ranges. Neither: the embeddings being quantized calibrate themselves.
 * @example quantizeEmbeddings(m, 'int8', { ranges: [new Float32Array(384).fill(-0.3), new Float32Array(384).fill(0.3)] });
 */
export interface QuantizeOptions {
  ranges?: readonly [ArrayLike<number>, ArrayLike<number>];
  calibration?: { data: ArrayLike<number>; dims: readonly [number, number] } | readonly ArrayLike<number>[];
}

const f32 = Math.fround;

/** Per-dimension [starts, ends] in float32. */
function rangesOf(m: EmbeddingMatrix<Float32Array>, options: QuantizeOptions): [Float32Array, Float32Array] {
  const d = m.dims[1];
  if (options.ranges !== undefined) {
    const [lo, hi] = options.ranges;
    if (!lo || !hi || lo.length !== d || hi.length !== d) {
      throw new DualbertError('INVALID_ARGUMENT', `ranges must be [starts, ends] with ${d} values each (one per dimension), got ${lo?.length ?? 'none'} and ${hi?.length ?? 'none'}`);
    }
    const starts = Float32Array.from(lo);
    const ends = Float32Array.from(hi);
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(starts[j]!) || !Number.isFinite(ends[j]!)) throw new DualbertError('INVALID_ARGUMENT', `ranges: dimension ${j} is not a finite range (${starts[j]} … ${ends[j]})`);
    }
    return [starts, ends];
  }
  let source: { data: ArrayLike<number>; rows: number } = { data: m.data, rows: m.dims[0] };
  if (options.calibration !== undefined) {
    const c = options.calibration;
    if ('dims' in c) {
      if (c.dims[1] !== d || c.data.length !== c.dims[0] * c.dims[1]) {
        throw new DualbertError('INVALID_ARGUMENT', `calibration embeddings have dims [${c.dims.join(', ')}], the embeddings have ${d} dimensions`);
      }
      source = { data: c.data, rows: c.dims[0] };
    } else {
      const rows = c as readonly ArrayLike<number>[];
      const flat = new Float32Array(rows.length * d);
      rows.forEach((row, i) => {
        if (row.length !== d) throw new DualbertError('INVALID_ARGUMENT', `calibration embedding ${i} has ${row.length} values, the embeddings have ${d}`);
        flat.set(Array.from(row), i * d);
      });
      source = { data: flat, rows: rows.length };
    }
    if (source.rows === 0) throw new DualbertError('INVALID_ARGUMENT', 'calibration holds no embeddings');
  }
  const starts = new Float32Array(d).fill(Infinity);
  const ends = new Float32Array(d).fill(-Infinity);
  for (let i = 0; i < source.rows; i++) {
    for (let j = 0; j < d; j++) {
      const v = f32(source.data[i * d + j]!);
      if (v < starts[j]!) starts[j] = v;
      if (v > ends[j]!) ends[j] = v;
    }
  }
  return [starts, ends];
}

/**
 * Quantizes float32 embeddings to `precision` (see the module comment for the exact rules).
 * @example
 * const { data, dims } = quantizeEmbeddings({ data: vectors, dims: [2, 384] }, 'ubinary');   // Uint8Array, dims [2, 48]
 */
export function quantizeEmbeddings<P extends EmbeddingPrecision>(m: EmbeddingMatrix<Float32Array>, precision: P, options: QuantizeOptions = {}): EmbeddingMatrix<DataOf<P>> {
  const [n, d] = m.dims;
  if (!EMBEDDING_PRECISIONS.includes(precision)) {
    throw new DualbertError('INVALID_ARGUMENT', `precision "${String(precision)}" is not one of ${EMBEDDING_PRECISIONS.join(', ')}`);
  }
  if (precision === 'float32') return { data: m.data, dims: [n, d] } as EmbeddingMatrix<DataOf<P>>;
  if (precision === 'binary' || precision === 'ubinary') {
    const bytes = Math.ceil(d / 8);
    const packed = new Uint8Array(n * bytes);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        if (m.data[i * d + j]! > 0) packed[i * bytes + (j >> 3)]! |= 0x80 >> (j & 7);
      }
    }
    if (precision === 'ubinary') return { data: packed, dims: [n, bytes] } as EmbeddingMatrix<DataOf<P>>;
    const signed = new Int8Array(n * bytes);
    for (let k = 0; k < packed.length; k++) signed[k] = packed[k]! - 128;
    return { data: signed, dims: [n, bytes] } as EmbeddingMatrix<DataOf<P>>;
  }
  const [starts, ends] = rangesOf(m, options);
  const steps = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    const step = f32(f32(ends[j]! - starts[j]!) / 255);
    steps[j] = step === 0 ? 1 : step;
  }
  const out = precision === 'uint8' ? new Uint8Array(n * d) : new Int8Array(n * d);
  const shift = precision === 'uint8' ? 0 : 128;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const q = Math.floor(f32(f32(m.data[i * d + j]! - starts[j]!) / steps[j]!));
      out[i * d + j] = Math.min(255, Math.max(0, q)) - shift;
    }
  }
  return { data: out, dims: [n, d] } as EmbeddingMatrix<DataOf<P>>;
}
