/**
 * A minimal protobuf wire-format reader: enough to walk an ONNX ModelProto without copying it.
 * Messages are read field by field; length-delimited fields come back as views into the input,
 * so a 90 MB model is never duplicated to find its tensors.
 *
 *   for (const f of readFields(bytes)) if (f.field === 7) graph = f.bytes;
 */

/** Protobuf wire types. */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

export interface ProtoField {
  readonly field: number;
  readonly wire: WireType;
  /** Varint fields: the value (as a JS number: exact up to 2⁵³; int64 negatives come out as 2⁶⁴ − x). */
  readonly value: number;
  /** Length-delimited, fixed32 and fixed64 fields: the payload bytes (a view, not a copy). */
  readonly bytes: Uint8Array;
}

/** Thrown for malformed input; callers wrap it with the file name. */
export class ProtobufError extends Error {}

const EMPTY = new Uint8Array(0);

/**
 * Reads a varint at `pos`; returns [value, next position]. Values up to 2⁴⁹ are read as plain
 * numbers; longer varints are read exactly as 64-bit two's complement, so negative int32/int64
 * values (10-byte varints) come back negative.
 */
export function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let scale = 1;
  const start = pos;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new ProtobufError('varint runs past the end of the message');
    const b = buf[pos++]!;
    result += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [i < 7 ? result : exactVarint(buf, start, pos), pos];
    scale *= 128;
  }
  throw new ProtobufError('varint longer than 10 bytes');
}

function exactVarint(buf: Uint8Array, start: number, end: number): number {
  let v = 0n;
  for (let p = end - 1; p >= start; p--) v = (v << 7n) | BigInt(buf[p]! & 0x7f);
  return Number(BigInt.asIntN(64, v));
}

/** The fields of one message, in order. Throws {@link ProtobufError} on truncated or unknown wire data. */
export function* readFields(buf: Uint8Array): Generator<ProtoField> {
  let pos = 0;
  while (pos < buf.length) {
    const [tag, afterTag] = readVarint(buf, pos);
    pos = afterTag;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new ProtobufError('field number 0');
    switch (wire) {
      case WireType.Varint: {
        const [value, next] = readVarint(buf, pos);
        pos = next;
        yield { field, wire: WireType.Varint, value, bytes: EMPTY };
        break;
      }
      case WireType.LengthDelimited: {
        const [len, start] = readVarint(buf, pos);
        if (start + len > buf.length) {
          throw new ProtobufError(`field ${field} claims ${len} bytes, only ${buf.length - start} remain (truncated file?)`);
        }
        pos = start + len;
        yield { field, wire: WireType.LengthDelimited, value: len, bytes: buf.subarray(start, pos) };
        break;
      }
      case WireType.Fixed32:
      case WireType.Fixed64: {
        const size = wire === WireType.Fixed32 ? 4 : 8;
        if (pos + size > buf.length) throw new ProtobufError(`field ${field} runs past the end of the message`);
        yield { field, wire: wire === WireType.Fixed32 ? WireType.Fixed32 : WireType.Fixed64, value: 0, bytes: buf.subarray(pos, pos + size) };
        pos += size;
        break;
      }
      default:
        throw new ProtobufError(`unsupported wire type ${wire} (field ${field}): not a protobuf message, or corrupt`);
    }
  }
}

const utf8 = new TextDecoder('utf-8');

/** A string field's text. */
export function protoString(f: ProtoField): string {
  return utf8.decode(f.bytes);
}

/** The values of a repeated integer field, packed or not (`fields` are all occurrences of it). */
export function repeatedInts(fields: readonly ProtoField[]): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.wire === WireType.Varint) {
      out.push(f.value);
      continue;
    }
    let pos = 0;
    while (pos < f.bytes.length) {
      const [v, next] = readVarint(f.bytes, pos);
      out.push(v);
      pos = next;
    }
  }
  return out;
}

/** A varint as a signed int64 (ONNX dims and attributes are int64); `readVarint` already reads long varints signed. */
export function toSigned64(v: number): number {
  return v >= 2 ** 63 ? v - 2 ** 64 : v;
}
