/**
 * A minimal protobuf writer: just what serializing an ONNX ModelProto needs (varints, length-
 * delimited fields, fixed32 floats, packed int64s). Messages are built as nested byte arrays.
 */

const encoder = new TextEncoder();

/** Accumulates the bytes of one message. */
export class ProtoWriter {
  /** @type {Uint8Array[]} */
  #parts = [];
  #length = 0;

  #push(bytes) {
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }

  /** Varint of a non-negative number or any int64 (negative values as 64-bit two's complement). */
  #varint(value) {
    let v = BigInt.asUintN(64, BigInt(value));
    const out = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    this.#push(Uint8Array.from(out));
  }

  #tag(field, wireType) {
    this.#varint((field << 3) | wireType);
  }

  /** int32/int64/enum field (wire type 0). */
  int(field, value) {
    this.#tag(field, 0);
    this.#varint(value);
    return this;
  }

  /** float field (wire type 5). */
  float(field, value) {
    this.#tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#push(b);
    return this;
  }

  /** bytes / string / embedded message field (wire type 2). */
  bytes(field, value) {
    const b = typeof value === 'string' ? encoder.encode(value) : value instanceof ProtoWriter ? value.finish() : value;
    this.#tag(field, 2);
    this.#varint(b.length);
    this.#push(b);
    return this;
  }

  /** A packed repeated int64 field. */
  packedInts(field, values) {
    const inner = new ProtoWriter();
    for (const v of values) inner.#varint(v);
    return this.bytes(field, inner.finish());
  }

  /** The serialized message. */
  finish() {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const p of this.#parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }
}
