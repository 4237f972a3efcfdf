/**
 * Duplicate keys in JSON text. `JSON.parse` keeps the last of two equal keys without a word, so
 * a safetensors header that names a tensor twice (two offsets for one name) would load whichever
 * came last. Checked after `JSON.parse` accepted the text, so the scan can assume valid JSON.
 */

/**
 * The first key that appears twice in one object of `text` (valid JSON), with the path of that
 * object (`""` for the top level, else the key that holds it), or undefined when there is none.
 * @example findDuplicateKey('{"a": 1, "a": 2}')   // { key: 'a', path: '' }
 */
export function findDuplicateKey(text: string): { key: string; path: string } | undefined {
  // One frame per open container: an object's keys so far (and the key it is stored under), or null for an array.
  const stack: ({ keys: Set<string>; path: string } | null)[] = [];
  let lastKey = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      const end = ++i;
      const frame = stack.at(-1);
      if (frame) {
        let j = i;
        while (j < n && (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x0a || text.charCodeAt(j) === 0x0d || text.charCodeAt(j) === 0x09)) j++;
        if (text.charCodeAt(j) === 0x3a /* : */) {
          const key = JSON.parse(text.slice(start, end)) as string;
          if (frame.keys.has(key)) return { key, path: frame.path };
          frame.keys.add(key);
          lastKey = key;
        }
      }
      continue;
    }
    if (c === 0x7b /* { */) stack.push({ keys: new Set(), path: stack.length === 0 ? '' : lastKey });
    else if (c === 0x5b /* [ */) stack.push(null);
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    i++;
  }
  return undefined;
}
