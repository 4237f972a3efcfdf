// Synthetic input texts for the GPU benchmarks: common English words that are one WordPiece
// token each in the minilm vocabulary, so a text of T − 2 words is exactly T tokens with CLS and SEP.

const WORDS = `the of and to in is was for on as with by he at from his an were are which this be or has
had not first one their its new after but who they have her she two been other when there all during
into school time may years more most only over city some world would where later up such used many can
state about national out known university united then made each year people well part music film team
three river season group water life game war house county family history american series body
light field north south east west market power church army great early high long local small public`.split(/\s+/);

/** `count` distinct texts of exactly T tokens each (T − 2 one-piece words, plus CLS and SEP). */
export function textsOf(count, T, seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: count }, () => Array.from({ length: T - 2 }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' '));
}
