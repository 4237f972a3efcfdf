/**
 * NumPy `.npy` (format version 1.0) for a float32 matrix: magic, version, a little-endian u16
 * header length, a Python-dict header padded with spaces to a multiple of 64 bytes and ending in
 * a newline, then the raw little-endian values in C order.
 */

/** The header of a C-order little-endian float32 array of this shape. */
export function npyHeader(shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const fixed = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((fixed + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - fixed - 1, ' ') + '\n';
  const out = new Uint8Array(total);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, dict.length, true);
  out.set(new TextEncoder().encode(dict), fixed);
  return out;
}

/** Little-endian bytes of float32 values (a copy only on big-endian hosts). */
export function float32Bytes(values: Float32Array): Uint8Array {
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (littleEndian) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (const [i, v] of values.entries()) view.setFloat32(i * 4, v, true);
  return out;
}
