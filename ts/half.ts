/**
 * IEEE 754 binary16 conversions, the one copy: the weight readers widen F16 tensors with them and
 * the webgpu fp16 path stores weights and activations as f16 (Float16Array is not in Node 20, so
 * the bits are handled here).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The f16 bits nearest to `value` (round to nearest, ties to even; ±Infinity past 65504). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf, NaN (quiet)
  // Re-bias the exponent: f32 bias 127, f16 bias 15.
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // Subnormal f16 (or zero): shift the mantissa with its implicit 1 into place.
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m; // a carry into bit 10 correctly yields the smallest normal
  }
  const rest = mant & 0x1fff;
  let bits = sign | (e << 10) | (mant >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && (bits & 1))) bits++; // a carry rolls into the exponent
  return bits;
}

/** The value of f16 bits. */
export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Float32 values → f16 bits, in an array of at least `length` entries (zero-padded). */
export function toHalfArray(values: ArrayLike<number>, length = values.length): Uint16Array {
  const out = new Uint16Array(Math.max(length, values.length));
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]!);
  return out;
}

/** f16 bits → Float32 values. */
export function fromHalfArray(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = fromHalfBits(bits[i]!);
  return out;
}
