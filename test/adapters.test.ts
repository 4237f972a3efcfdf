/** The framework adapters, exercised through the real packages: `ai` (embed, embedMany) and `@langchain/core`. */
import { Embeddings } from '@langchain/core/embeddings';
import { embed, embedMany } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dualbertEmbeddingModel } from '../ts/adapters/ai-sdk.js';
import { DualbertEmbeddings } from '../ts/adapters/langchain.js';
import { createEmbedder, type Embedder } from '../ts/index.js';
import { loadGolden, maxAbsDiff } from './helpers/golden.js';

const golden = loadGolden('tiny');
const values = ['HELLO WORLD', 'don\'t won\'t can\'t I\'m you\'re it\'s', 'Ångström Ærø Œuvre ß straße', 'short'];
let embedder: Embedder;
let expected: number[][];

beforeAll(async () => {
  embedder = await createEmbedder('synthetic:tiny', { device: 'reference' });
  const { data, dims } = await embedder.embed(values);
  expected = values.map((_, i) => Array.from(data.subarray(i * dims[1], (i + 1) * dims[1])));
});
afterAll(() => embedder.dispose());

describe('Vercel AI SDK adapter', () => {
  it('embed() with a model spec loads lazily and gives the golden vector', async () => {
    const model = dualbertEmbeddingModel('synthetic:tiny', { device: 'reference' });
    expect(model.specificationVersion).toBe('v3');
    const { embedding, usage } = await embed({ model, value: 'HELLO WORLD' });
    expect(maxAbsDiff(embedding, golden.texts[2]!.mean)).toBeLessThanOrEqual(1e-6); // golden text 2 is "HELLO WORLD"
    expect(usage.tokens).toBe(4);
  });

  it('embedMany() splits by maxEmbeddingsPerCall and returns the vectors in order', async () => {
    const model = dualbertEmbeddingModel(embedder, { maxEmbeddingsPerCall: 3 });
    const { embeddings } = await embedMany({ model, values });
    expect(embeddings.length).toBe(values.length);
    embeddings.forEach((e, i) => expect(e).toEqual(expected[i]));
  });

  it('honours an aborted signal', async () => {
    const model = dualbertEmbeddingModel(embedder);
    const controller = new AbortController();
    controller.abort();
    await expect(model.doEmbed({ values, abortSignal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('LangChain adapter', () => {
  it('is a LangChain Embeddings with embedDocuments and embedQuery', async () => {
    const embeddings = new DualbertEmbeddings({ model: embedder });
    expect(embeddings).toBeInstanceOf(Embeddings);
    const docs = await embeddings.embedDocuments(values);
    docs.forEach((d, i) => expect(d).toEqual(expected[i]));
    expect(await embeddings.embedQuery(values[3]!)).toEqual(expected[3]);
  });

  it('loads a model spec on first use, with embedding options', async () => {
    const embeddings = new DualbertEmbeddings({ model: 'synthetic:tiny', embedderOptions: { device: 'reference' }, embedOptions: { pooling: 'cls', normalize: false } });
    const [cls] = await embeddings.embedDocuments(['HELLO WORLD']);
    const want = golden.texts[2]!.cls;
    expect(maxAbsDiff(cls!, want) / Math.max(...want.map(Math.abs))).toBeLessThanOrEqual(1e-6);
  });
});
