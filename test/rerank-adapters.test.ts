/**
 * The reranking adapters through the real packages: the AI SDK's `rerank()` with
 * dualbertRerankingModel, and LangChain's document compressor (DualbertReranker), on the tiny
 * cross-encoder saved by sentence-transformers 6 (test/fixtures/rerank), against its rank().
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Document } from '@langchain/core/documents';
import { BaseDocumentCompressor } from '@langchain/core/retrievers/document_compressors';
import { type RerankingModel, rerank } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dualbertRerankingModel } from '../ts/adapters/ai-sdk.js';
import { DualbertReranker } from '../ts/adapters/langchain.js';
import { type Reranker, createReranker } from '../ts/index.js';

interface RankGolden {
  queries: string[];
  documents: string[];
  'tiny-ce': { rank: { corpus_id: number; score: number; text: string }[][] };
}
const TINY = fileURLToPath(new URL('./fixtures/rerank/tiny-ce', import.meta.url));
const golden = JSON.parse(gunzipSync(readFileSync(fileURLToPath(new URL('./fixtures/rerank/reference.json.gz', import.meta.url)))).toString('utf8')) as RankGolden;
const [query] = golden.queries as [string];
const want = golden['tiny-ce'].rank[0]!;

let reranker: Reranker;
beforeAll(async () => {
  reranker = await createReranker(TINY, { device: 'reference' });
});
afterAll(() => reranker.dispose());

describe('AI SDK reranking model', () => {
  it("rerank() orders the documents as CrossEncoder.rank, with its scores; topN; a model spec loads lazily", async () => {
    const model: RerankingModel = dualbertRerankingModel(TINY, { device: 'reference' });
    const { ranking, rerankedDocuments } = await rerank({ model, query, documents: golden.documents, topN: 4 });
    expect(ranking.map((r) => r.originalIndex)).toEqual(want.slice(0, 4).map((r) => r.corpus_id));
    ranking.forEach((r, i) => expect(Math.abs(r.score - want[i]!.score)).toBeLessThanOrEqual(1e-9));
    expect(rerankedDocuments).toEqual(want.slice(0, 4).map((r) => r.text));
  });

  it('object documents are scored as their JSON text; an aborted signal stops the call', async () => {
    const model = dualbertRerankingModel(reranker);
    const objects = golden.documents.map((text) => ({ text }));
    const { ranking } = await model.doRerank({ query, documents: { type: 'object', values: objects } });
    const direct = await reranker.rank(query, objects.map((o) => JSON.stringify(o)));
    expect(ranking).toEqual(direct.map((r) => ({ index: r.corpus_id, relevanceScore: r.score })));
    const controller = new AbortController();
    controller.abort();
    await expect(model.doRerank({ query, documents: { type: 'text', values: ['a'] }, abortSignal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('LangChain document compressor', () => {
  it('keeps the topN most relevant documents, best first, with metadata.relevanceScore', async () => {
    const compressor = new DualbertReranker({ model: reranker, topN: 3 });
    expect(compressor).toBeInstanceOf(BaseDocumentCompressor);
    const docs = golden.documents.map((pageContent, i) => new Document({ pageContent, metadata: { source: `doc-${i}` } }));
    const kept = await compressor.compressDocuments(docs, query);
    expect(kept.map((d) => d.metadata['source'])).toEqual(want.slice(0, 3).map((r) => `doc-${r.corpus_id}`));
    kept.forEach((d, i) => expect(Math.abs((d.metadata['relevanceScore'] as number) - want[i]!.score)).toBeLessThanOrEqual(1e-9));
    const all = await new DualbertReranker({ model: TINY, rerankerOptions: { device: 'reference' } }).rerank(golden.documents, query, { topN: 9 });
    expect(all.map((r) => r.index)).toEqual(want.map((r) => r.corpus_id));
  });
});
