/**
 * Rotary position embedding tables, computed as transformers computes them, so that positions far
 * into a long context rotate by the same angles: the inverse frequencies and the angles are
 * float32 (transformers forces float32 there even in a float64 model), then cos and sin of the
 * float32 angle are rounded to float32.
 *
 *   inv_freq[i] = f32(1 / f32(θ ^ f32(2i / dims)))       i < dims/2
 *   angle[t, i] = f32(inv_freq[i] · t)
 *   cos[t, i]   = f32(cos(angle[t, i])),  sin likewise    → tables [P, dims/2]
 *
 * Kernels only look the values up: no transcendental runs on a device, whose cos of an angle in
 * the thousands (t = 8000) would be far less accurate than float32.
 */

/** The inverse frequencies of RoPE with base θ over `dims` rotated dimensions. */
export function ropeInverseFrequencies(theta: number, dims: number): Float32Array {
  const out = new Float32Array(dims / 2);
  const base = Math.fround(theta);
  for (let i = 0; i < dims / 2; i++) out[i] = Math.fround(1 / Math.fround(base ** Math.fround((2 * i) / dims)));
  return out;
}

/** The cos or sin table [positions, dims/2] of RoPE with base θ. */
export function ropeTable(part: 'cos' | 'sin', theta: number, dims: number, positions: number): Float32Array {
  const inv = ropeInverseFrequencies(theta, dims);
  const half = dims / 2;
  const out = new Float32Array(positions * half);
  const f = part === 'cos' ? Math.cos : Math.sin;
  for (let t = 0; t < positions; t++) {
    for (let i = 0; i < half; i++) out[t * half + i] = f(Math.fround(inv[i]! * t));
  }
  return out;
}
