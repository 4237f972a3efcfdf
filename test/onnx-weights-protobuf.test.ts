/**
 * The protobuf reader and TensorProto decoding under the ONNX weight reader: varints (negative
 * int32/int64 too), every way a tensor's values can be stored (raw_data, packed and unpacked
 * float_data, int32_data carrying float16 and int8, int64_data), and malformed input.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module of the benchmark suite (JSDoc-typed)
import { ProtoWriter } from '../bench/onnx/protobuf.mjs';
import { DualbertError } from '../ts/errors.js';
import { decodeOnnxTensor, parseOnnx } from '../ts/model/onnx.js';
import { ProtobufError, readFields, repeatedInts } from '../ts/model/protobuf.js';
import { toHalfBits as floatToHalf } from '../ts/half.js';

interface Writer {
  int(field: number, value: number | bigint): Writer;
  float(field: number, value: number): Writer;
  bytes(field: number, value: string | Uint8Array | Writer): Writer;
  packedInts(field: number, values: readonly number[]): Writer;
  finish(): Uint8Array;
}
const W = (): Writer => new ProtoWriter() as Writer;

/** A one-node model whose only initializer is `tensor`. */
function modelWith(tensor: Writer): Uint8Array {
  const node = W().bytes(1, 'x').bytes(2, 'y').bytes(4, 'Identity');
  return W().int(1, 8).bytes(7, W().bytes(1, node).bytes(5, tensor)).finish();
}
const decodeOnly = (tensor: Writer) => decodeOnnxTensor([...parseOnnx(modelWith(tensor)).initializers.values()][0]!, 't.onnx');

describe('protobuf', () => {
  it('varints: small, large, and negative int32/int64 (10-byte two’s complement) exactly', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31 - 1, -1, -5, -(2 ** 31), 2 ** 40, -(2 ** 40), 2 ** 53 - 1];
    const w = W();
    for (const v of values) w.int(1, v);
    expect(repeatedInts([...readFields(w.finish())])).toEqual(values);
    expect(repeatedInts([...readFields(W().packedInts(1, values).finish())])).toEqual(values);
  });

  it('malformed input: truncated fields, unknown wire types', () => {
    const msg = W().bytes(1, 'hello world').finish();
    expect(() => [...readFields(msg.subarray(0, 5))]).toThrow(ProtobufError);
    expect(() => [...readFields(Uint8Array.of(0x0b))]).toThrow(/unsupported wire type 3/);
    expect(() => parseOnnx(Uint8Array.of(0x0a, 0x02, 0x41))).toThrow(DualbertError);
  });
});

describe('TensorProto values', () => {
  it('raw_data float32 / float16 / int8 / int64, typed float_data (packed or not), int32_data with fp16 bits or int8, int64 dims', () => {
    const f = Float32Array.of(1.5, -2.25, 2 ** -24, 65504); // all exact in float16 (2⁻²⁴: the smallest subnormal)
    expect(decodeOnly(W().packedInts(1, [2, 2]).int(2, 1).bytes(8, 'a').bytes(9, new Uint8Array(f.buffer)))).toEqual({ shape: [2, 2], data: f });
    const halves = Uint16Array.from(f, floatToHalf);
    expect(Array.from(decodeOnly(W().packedInts(1, [4]).int(2, 10).bytes(8, 'h').bytes(9, new Uint8Array(halves.buffer))).data)).toEqual([1.5, -2.25, 2 ** -24, 65504]);
    expect(Array.from(decodeOnly(W().packedInts(1, [3]).int(2, 3).bytes(8, 'i8').bytes(9, Uint8Array.of(0x80, 0xff, 0x7f))).data)).toEqual([-128, -1, 127]);
    const i64 = BigInt64Array.of(-3n, 7n);
    expect(Array.from(decodeOnly(W().packedInts(1, [2]).int(2, 7).bytes(8, 'l').bytes(9, new Uint8Array(i64.buffer))).data)).toEqual([-3, 7]);

    const packedFloats = W().packedInts(1, [2]).int(2, 1).bytes(8, 'pf');
    packedFloats.bytes(4, new Uint8Array(Float32Array.of(0.5, -4).buffer));
    expect(Array.from(decodeOnly(packedFloats).data)).toEqual([0.5, -4]);
    const looseFloats = W().packedInts(1, [2]).int(2, 1).bytes(8, 'lf').float(4, 0.5).float(4, -4);
    expect(Array.from(decodeOnly(looseFloats).data)).toEqual([0.5, -4]);
    const int8InInt32 = W().packedInts(1, [3]).int(2, 3).bytes(8, 'x').packedInts(5, [-7, 0, 100]);
    expect(Array.from(decodeOnly(int8InInt32).data)).toEqual([-7, 0, 100]);
    const fp16InInt32 = W().packedInts(1, [2]).int(2, 10).bytes(8, 'y').packedInts(5, [floatToHalf(0.25), floatToHalf(-3)]);
    expect(Array.from(decodeOnly(fp16InInt32).data)).toEqual([0.25, -3]);
  });

  it('a size that does not match the shape, a dtype we cannot read', () => {
    expect(() => decodeOnly(W().packedInts(1, [3]).int(2, 1).bytes(8, 'bad').bytes(9, new Uint8Array(8)))).toThrow(/t\.onnx: initializer "bad" has 8 bytes, but shape \[3\] × float32 needs 12/);
    expect(() => decodeOnly(W().packedInts(1, [1]).int(2, 8).bytes(8, 's').bytes(9, new Uint8Array(1)))).toThrow(/initializer "s" has dtype string/);
    expect(() => decodeOnly(W().packedInts(1, [3]).int(2, 1).bytes(8, 'few').float(4, 1))).toThrow(/holds 1 values, its shape \[3\] needs 3/);
  });
});
