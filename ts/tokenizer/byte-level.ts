/**
 * The byte-level alphabet of GPT-2 (and RoBERTa, ModernBERT ...): every UTF-8 byte is shown as
 * one printable character, so that BPE works on bytes but its vocabulary stays readable. Bytes
 * `!`..`~`, `¡`..`¬`, `®`..`ÿ` stand for themselves; the other 68 map to U+0100.. in byte order.
 */

let byteChars: Uint16Array | undefined;

/**
 * The stand-in character code of each byte value.
 * @example String.fromCharCode(byteLevelChars()[0x20]) // 'Ġ'
 */
export function byteLevelChars(): Uint16Array {
  if (byteChars === undefined) {
    byteChars = new Uint16Array(256);
    let next = 256;
    for (let b = 0; b < 256; b++) {
      const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
      byteChars[b] = printable ? b : next++;
    }
  }
  return byteChars;
}

/**
 * The byte-level form of a string: its UTF-8 bytes, each as its stand-in character.
 * @example toByteLevel('é!') // 'Ã©!'
 */
export function toByteLevel(text: string): string {
  const table = byteLevelChars();
  // Printable ASCII other than space stands for itself.
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) break;
    i++;
  }
  if (i === text.length) return text;
  const units = scratch(text.length * 4);
  let n = 0;
  for (let k = 0; k < i; k++) units[n++] = text.charCodeAt(k);
  for (; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp < 0x80) {
      units[n++] = table[cp]!;
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = (cp - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
        i++;
      }
    }
    if (cp < 0x800) {
      units[n++] = table[0xc0 | (cp >> 6)]!;
    } else if (cp < 0x10000) {
      units[n++] = table[0xe0 | (cp >> 12)]!;
      units[n++] = table[0x80 | ((cp >> 6) & 0x3f)]!;
    } else {
      units[n++] = table[0xf0 | (cp >> 18)]!;
      units[n++] = table[0x80 | ((cp >> 12) & 0x3f)]!;
      units[n++] = table[0x80 | ((cp >> 6) & 0x3f)]!;
    }
    units[n++] = table[0x80 | (cp & 0x3f)]!;
  }
  return fromCharCodes(units, n);
}

let scratchUnits = new Uint16Array(256);

function scratch(size: number): Uint16Array {
  if (scratchUnits.length < size) scratchUnits = new Uint16Array(Math.max(size, scratchUnits.length * 2));
  return scratchUnits;
}

/**
 * The string of the first `n` code units, in chunks (a huge apply would overflow the stack).
 * @example fromCharCodes(Uint16Array.of(0x68, 0x69), 2) // 'hi'
 */
export function fromCharCodes(units: Uint16Array, n: number): string {
  const CHUNK = 8192;
  if (n <= CHUNK) return String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]);
  let out = '';
  for (let k = 0; k < n; k += CHUNK) out += String.fromCharCode.apply(null, units.subarray(k, Math.min(n, k + CHUNK)) as unknown as number[]);
  return out;
}
