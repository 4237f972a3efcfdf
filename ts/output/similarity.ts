/**
 * Similarity of embeddings, as sentence-transformers computes it (float64 here):
 *   cos_sim(a, b)   = â·b̂ with x̂ = x / max(‖x‖₂, 1e-12)   (util.cos_sim)
 *   dot(a, b)       = a·b                                  (util.dot_score)
 *   euclidean       = −‖a − b‖₂                            (util.euclidean_sim)
 *   manhattan       = −‖a − b‖₁                            (util.manhattan_sim)
 *   hamming(a, b)   = differing bits of two packed codes (ubinary or binary precision)
 * Each takes two vectors (→ a number) or two sets of embeddings (→ the matrix of every pair,
 * `[a rows, b rows]`); `similarity(a, b, fn)` is the matrix for a function named as
 * sentence-transformers names it (a model's `similarity_fn_name`).
 */
import { DualbertError } from '../errors.js';

/**
 * A model's similarity function (sentence-transformers `similarity_fn_name`).
 * @example const fn: SimilarityFunction = embedder.defaults.similarityFnName;   // 'cosine'
 */
export type SimilarityFunction = 'cosine' | 'dot' | 'euclidean' | 'manhattan';

/**
 * The names sentence-transformers accepts for `similarity_fn_name`.
 * @example SIMILARITY_FUNCTIONS.includes(name as SimilarityFunction)
 */
export const SIMILARITY_FUNCTIONS: readonly SimilarityFunction[] = ['cosine', 'dot', 'euclidean', 'manhattan'];

/**
 * One embedding: a typed array or an array of numbers.
 * @example const v: Vector = new Float32Array([0.1, 0.2]);
 */
export type Vector = ArrayLike<number>;

/**
 * Several embeddings: a row-major matrix (what `embed()` returns) or an array of vectors.
 * @example const e: Embeddings = await embedder.embed(['a', 'b']);   // or [[0.1, 0.2], [0.3, 0.4]]
 */
export type Embeddings = { readonly data: ArrayLike<number>; readonly dims: readonly number[] } | readonly Vector[];

/**
 * Scores of every pair: `data[i · dims[1] + j]` compares row i of a with row j of b.
 * @example const { data, dims } = cos_sim(queries, documents);
 */
export interface SimilarityMatrix {
  data: Float64Array;
  dims: [number, number];
}

interface Rows {
  data: ArrayLike<number>;
  n: number;
  d: number;
}

function isVector(x: unknown): x is Vector {
  if (ArrayBuffer.isView(x)) return true;
  return Array.isArray(x) && (x.length === 0 || typeof x[0] === 'number');
}

/** Embeddings (or one vector, as one row) as rows of equal width. */
function rowsOf(x: Embeddings | Vector, what: string): Rows {
  if (isVector(x)) return { data: x, n: 1, d: x.length };
  if (Array.isArray(x)) {
    const vectors = x as readonly Vector[];
    const d = vectors.length ? vectors[0]!.length : 0;
    const data = new Float64Array(vectors.length * d);
    vectors.forEach((v, i) => {
      if (!isVector(v)) throw new DualbertError('INVALID_ARGUMENT', `${what}[${i}] is not a vector of numbers`);
      if (v.length !== d) throw new DualbertError('INVALID_ARGUMENT', `${what}[${i}] has ${v.length} values, ${what}[0] has ${d}`);
      data.set(Array.from(v), i * d);
    });
    return { data, n: vectors.length, d };
  }
  const m = x as { data?: ArrayLike<number>; dims?: readonly number[] };
  if (!m || typeof m !== 'object' || !m.data || !Array.isArray(m.dims) || m.dims.length !== 2) {
    throw new DualbertError('INVALID_ARGUMENT', `${what} must be a vector, an array of vectors, or { data, dims: [n, d] }`);
  }
  const [n, d] = m.dims as [number, number];
  if (m.data.length !== n * d) throw new DualbertError('INVALID_ARGUMENT', `${what}: dims [${n}, ${d}] need ${n * d} values, data has ${m.data.length}`);
  return { data: m.data, n, d };
}

function pairwise(a: Rows, b: Rows, score: (a: Rows, i: number, b: Rows, j: number) => number): SimilarityMatrix {
  if (a.d !== b.d) throw new DualbertError('INVALID_ARGUMENT', `the embeddings have different widths: ${a.d} and ${b.d}`);
  const data = new Float64Array(a.n * b.n);
  for (let i = 0; i < a.n; i++) for (let j = 0; j < b.n; j++) data[i * b.n + j] = score(a, i, b, j);
  return { data, dims: [a.n, b.n] };
}

const dotRows = (a: Rows, i: number, b: Rows, j: number): number => {
  let s = 0;
  for (let k = 0; k < a.d; k++) s += a.data[i * a.d + k]! * b.data[j * b.d + k]!;
  return s;
};

const norms = (r: Rows): Float64Array => {
  const out = new Float64Array(r.n);
  for (let i = 0; i < r.n; i++) out[i] = Math.max(Math.sqrt(dotRows(r, i, r, i)), 1e-12);
  return out;
};

function cosineMatrix(a: Rows, b: Rows): SimilarityMatrix {
  const na = norms(a);
  const nb = norms(b);
  return pairwise(a, b, (x, i, y, j) => dotRows(x, i, y, j) / (na[i]! * nb[j]!));
}

function distance(p: 1 | 2): (a: Rows, i: number, b: Rows, j: number) => number {
  return (a, i, b, j) => {
    let s = 0;
    for (let k = 0; k < a.d; k++) {
      const diff = Math.abs(a.data[i * a.d + k]! - b.data[j * b.d + k]!);
      s += p === 1 ? diff : diff * diff;
    }
    return -(p === 1 ? s : Math.sqrt(s));
  };
}

function hammingRows(a: Rows, i: number, b: Rows, j: number): number {
  let bits = 0;
  for (let k = 0; k < a.d; k++) {
    let x = (a.data[i * a.d + k]! ^ b.data[j * b.d + k]!) & 0xff;
    while (x) {
      x &= x - 1;
      bits++;
    }
  }
  return bits;
}

function scalarOrMatrix(a: unknown, b: unknown, matrix: (a: Rows, b: Rows) => SimilarityMatrix): number | SimilarityMatrix {
  const m = matrix(rowsOf(a as Embeddings, 'a'), rowsOf(b as Embeddings, 'b'));
  return isVector(a) && isVector(b) ? m.data[0]! : m;
}

/**
 * Cosine similarity of two vectors, or of every pair of two sets of embeddings.
 * @example
 * cos_sim([1, 0], [1, 1]);                       // 0.7071…
 * cos_sim(await embedder.embed(queries), await embedder.embed(docs)).data;   // [queries × docs]
 */
export function cos_sim(a: Vector, b: Vector): number;
export function cos_sim(a: Embeddings, b: Embeddings): SimilarityMatrix;
export function cos_sim(a: Vector | Embeddings, b: Vector | Embeddings): number | SimilarityMatrix {
  return scalarOrMatrix(a, b, cosineMatrix);
}

/**
 * Dot product of two vectors, or of every pair of two sets of embeddings.
 * @example dot([1, 2], [3, 4]);   // 11
 */
export function dot(a: Vector, b: Vector): number;
export function dot(a: Embeddings, b: Embeddings): SimilarityMatrix;
export function dot(a: Vector | Embeddings, b: Vector | Embeddings): number | SimilarityMatrix {
  return scalarOrMatrix(a, b, (x, y) => pairwise(x, y, dotRows));
}

/**
 * Hamming distance (differing bits) of two packed binary codes — `ubinary` (Uint8Array) or
 * `binary` (Int8Array) embeddings, which differ only in the top bit of every byte and so give the
 * same distances — or of every pair of two sets of them.
 * @example
 * const { data } = await embedder.embed(texts, { precision: 'ubinary' });
 * hamming(data.subarray(0, 48), data.subarray(48, 96));   // 0 … 384
 */
export function hamming(a: Vector, b: Vector): number;
export function hamming(a: Embeddings, b: Embeddings): SimilarityMatrix;
export function hamming(a: Vector | Embeddings, b: Vector | Embeddings): number | SimilarityMatrix {
  for (const [x, name] of [[a, 'a'], [b, 'b']] as const) {
    const data = isVector(x) ? x : Array.isArray(x) ? (x as readonly Vector[])[0] : (x as { data: unknown }).data;
    if (data !== undefined && !(data instanceof Uint8Array || data instanceof Int8Array || (Array.isArray(data) && data.every((v) => Number.isInteger(v) && v >= -128 && v <= 255)))) {
      throw new DualbertError('INVALID_ARGUMENT', `hamming: ${name} must hold packed bits (precision 'ubinary' or 'binary': Uint8Array or Int8Array)`);
    }
  }
  return scalarOrMatrix(a, b, (x, y) => pairwise(x, y, hammingRows));
}

/**
 * The similarity matrix of two sets of embeddings (or vectors, as one row each) under a named
 * function, as a sentence-transformers model's `similarity()`: cosine, dot, or the negative
 * euclidean / manhattan distance.
 * @example similarity(queryEmbeddings, docEmbeddings, 'dot').data
 */
export function similarity(a: Vector | Embeddings, b: Vector | Embeddings, fn: SimilarityFunction = 'cosine'): SimilarityMatrix {
  const x = rowsOf(a, 'a');
  const y = rowsOf(b, 'b');
  switch (fn) {
    case 'cosine':
      return cosineMatrix(x, y);
    case 'dot':
      return pairwise(x, y, dotRows);
    case 'euclidean':
      return pairwise(x, y, distance(2));
    case 'manhattan':
      return pairwise(x, y, distance(1));
    default:
      throw new DualbertError('INVALID_ARGUMENT', `similarity function "${String(fn)}" is not one of ${SIMILARITY_FUNCTIONS.join(', ')}`);
  }
}
