/**
 * Whether a downloaded file is whole, judged by the file's own format when the server gave no
 * size to check it against (no Content-Length, a compressed transfer) or gave a wrong one.
 *
 * - safetensors: the header says where the last tensor ends, so the file's length is known
 *   exactly: shorter is a truncated transfer.
 * - JSON: an object or array cut short never parses (its closing bracket is missing).
 * - ONNX: a protobuf message cut inside a field announces more bytes than remain.
 *
 * Anything else (vocab.txt, external ONNX data) cannot prove itself: only a declared size can.
 * The verdict is about length only; whether the content is valid is the parser's business.
 */
import { ProtobufError, readFields } from './protobuf.js';

/**
 * `complete`: the format proves that every byte is there; `short`: bytes are missing (`expected`
 * is the exact length when the format gives it; `certain` when the format's own numbers say so,
 * rather than a parse that merely ran out of bytes); `unknown`: it proves neither.
 */
export type Completeness = { status: 'complete' } | { status: 'short'; expected?: number; certain: boolean; reason: string } | { status: 'unknown' };

const UNKNOWN: Completeness = { status: 'unknown' };

/** Judges `bytes` by the format its file name (or URL path) names. */
export function checkCompleteness(name: string, bytes: Uint8Array): Completeness {
  const path = name.replace(/[?#].*$/, '').toLowerCase();
  if (path.endsWith('.safetensors')) return safetensorsCompleteness(bytes);
  if (path.endsWith('.json')) return jsonCompleteness(bytes);
  if (path.endsWith('.onnx')) return onnxCompleteness(bytes);
  return UNKNOWN;
}

/** Header offsets give the exact length: 8 + header length + the largest `data_offsets` end. */
function safetensorsCompleteness(bytes: Uint8Array): Completeness {
  if (bytes.byteLength < 8) return { status: 'short', certain: true, reason: `${bytes.byteLength} bytes is less than a safetensors header` };
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLen < 2 || headerLen > 100 * 1024 * 1024) return UNKNOWN; // not safetensors: the parser says so
  if (8 + headerLen > bytes.byteLength) {
    return { status: 'short', certain: true, reason: `its header alone needs ${8 + headerLen} bytes` };
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch {
    return UNKNOWN;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return UNKNOWN;
  let end = 0;
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const offsets = (entry as { data_offsets?: unknown } | null)?.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) return UNKNOWN;
    end = Math.max(end, offsets[1] as number);
  }
  const expected = 8 + headerLen + end;
  if (bytes.byteLength < expected) return { status: 'short', expected, certain: true, reason: `its header places tensor data up to byte ${expected}` };
  return bytes.byteLength === expected ? { status: 'complete' } : UNKNOWN;
}

function jsonCompleteness(bytes: Uint8Array): Completeness {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return typeof value === 'object' && value !== null ? { status: 'complete' } : UNKNOWN;
  } catch {
    return UNKNOWN;
  }
}

/** A ModelProto whose top-level fields all fit and that holds a graph (field 7). */
function onnxCompleteness(bytes: Uint8Array): Completeness {
  let graph = false;
  try {
    for (const f of readFields(bytes)) if (f.field === 7 && f.wire === 2) graph = true;
  } catch (e) {
    if (e instanceof ProtobufError && /past the end|remain/.test(e.message))
      return { status: 'short', certain: false, reason: `the protobuf message is cut short (${e.message})` };
    return UNKNOWN;
  }
  return graph ? { status: 'complete' } : UNKNOWN;
}
