/**
 * A safetensors reader that trusts nothing: the header length, the JSON, every offset, and every
 * size are checked against the file before a value is read.
 *
 * Layout: u64 little-endian header length H, then H bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {...} }`,
 * then the data buffer; offsets are relative to the start of the data buffer.
 */
import { fromHalfBits } from '../half.js';
import { DualbertError } from '../errors.js';
import type { Tensor } from '../graph/weights.js';
import { findDuplicateKey } from './json-keys.js';

/** Bytes per element of the dtypes we convert to float32. */
const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2 } as const;
type SupportedDtype = keyof typeof DTYPE_BYTES;

/** Header length cap: real headers are kilobytes; a huge value means a corrupt or foreign file. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsEntry {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

function fail(file: string, message: string): never {
  throw new DualbertError('INVALID_WEIGHTS', `${file}: ${message}`);
}

/** Parses and validates the header; returns entries by name and where the data buffer starts. */
export function readSafetensorsHeader(
  bytes: Uint8Array,
  file = 'model.safetensors',
): { entries: Map<string, SafetensorsEntry>; dataStart: number; metadata: Record<string, string> } {
  if (bytes.byteLength < 8) fail(file, `file is ${bytes.byteLength} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > bytes.byteLength) {
    fail(file, `header length ${headerLen} does not fit a ${bytes.byteLength}-byte file (not a safetensors file, or truncated)`);
  }
  let header: unknown;
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
    header = JSON.parse(text);
  } catch (e) {
    fail(file, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail(file, 'header is not a JSON object');
  // JSON.parse keeps the last of two equal keys: a tensor named twice would load silently.
  const duplicate = findDuplicateKey(text);
  if (duplicate) {
    fail(file, duplicate.path === '' ? `tensor "${duplicate.key}" is named twice in the header` : `tensor "${duplicate.path}" has the key "${duplicate.key}" twice in the header`);
  }

  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(file, `entry "${name}" is not an object`);
    if (typeof e.dtype !== 'string') fail(file, `tensor "${name}" has no dtype`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(file, `tensor "${name}" has an invalid shape ${JSON.stringify(e.shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isInteger(o) && o >= 0)) {
      fail(file, `tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (begin > end || end > dataLen) {
      fail(file, `tensor "${name}" spans bytes [${begin}, ${end}) outside the ${dataLen}-byte data buffer (file truncated?)`);
    }
    const shape = e.shape as number[];
    const bytesPer = DTYPE_BYTES[e.dtype as SupportedDtype];
    if (bytesPer !== undefined) {
      const expected = shape.reduce((a, b) => a * b, 1) * bytesPer;
      if (end - begin !== expected) {
        fail(file, `tensor "${name}" has ${end - begin} bytes, but shape [${shape.join(', ')}] × ${e.dtype} needs ${expected}`);
      }
    }
    entries.set(name, { dtype: e.dtype, shape, begin, end });
  }

  // Tensors must not overlap (the format requires a dense, non-overlapping buffer).
  const sorted = [...entries.entries()].sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < sorted.length; i++) {
    const [prevName, prev] = sorted[i - 1]!;
    const [name, cur] = sorted[i]!;
    if (cur.begin < prev.end) fail(file, `tensors "${prevName}" and "${name}" overlap`);
  }
  return { entries, dataStart, metadata };
}

/** Decodes one tensor to float32 (F16 and BF16 are widened exactly). */
export function decodeTensor(bytes: Uint8Array, dataStart: number, name: string, entry: SafetensorsEntry, file: string): Tensor {
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const start = bytes.byteOffset + dataStart + entry.begin;
  const view = new DataView(bytes.buffer, start, entry.end - entry.begin);
  const data = new Float32Array(count);
  switch (entry.dtype) {
    case 'F32':
      if (start % 4 === 0) data.set(new Float32Array(bytes.buffer, start, count));
      else for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) data[i] = fromHalfBits(view.getUint16(i * 2, true));
      break;
    case 'BF16': {
      // bf16 is the top half of a float32.
      const u32 = new Uint32Array(data.buffer);
      for (let i = 0; i < count; i++) u32[i] = view.getUint16(i * 2, true) << 16;
      break;
    }
    default:
      throw new DualbertError(
        'UNSUPPORTED_DTYPE',
        `${file}: tensor "${name}" has dtype ${entry.dtype}; dualbert reads F32, F16 and BF16`,
      );
  }
  return { shape: entry.shape, data };
}

/**
 * Reads the named tensors (or all) of a safetensors file as float32.
 * `rename` maps a file name to the checkpoint name (e.g. strips a "bert." prefix); tensors it maps
 * to undefined are skipped without being decoded.
 */
export function readSafetensors(
  bytes: Uint8Array,
  options: { file?: string; rename?: (name: string) => string | undefined; header?: ReturnType<typeof readSafetensorsHeader> } = {},
): Map<string, Tensor> {
  const file = options.file ?? 'model.safetensors';
  const { entries, dataStart } = options.header ?? readSafetensorsHeader(bytes, file);
  const out = new Map<string, Tensor>();
  const sourceOf = new Map<string, string>();
  for (const [name, entry] of entries) {
    const target = options.rename ? options.rename(name) : name;
    if (target === undefined) continue;
    const other = sourceOf.get(target);
    if (other !== undefined) fail(file, `tensors "${other}" and "${name}" are both "${target}": which one the model uses is ambiguous`);
    sourceOf.set(target, name);
    out.set(target, decodeTensor(bytes, dataStart, name, entry, file));
  }
  return out;
}

/** Serializes float32 tensors as safetensors (used by tests and for exporting synthetic models). */
export function writeSafetensors(tensors: ReadonlyMap<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data buffer starts 8-byte aligned (as the reference writer does).
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}
