/**
 * The test bodies every device runs, written once (candle's `test_device!`): call them inside a
 * test file with a list of devices from test/helpers/devices.ts.
 *
 * - {@link describeGoldenModels}: whole synthetic models against the golden PyTorch float64
 *   vectors: every golden text alone (mean+normalize and cls), padded batches, and tiny's hidden
 *   states layer by layer. Prints the worst max |Δ| of each check.
 * - {@link describeOpParity}: every op case (test/helpers/op-parity.ts) against the float64
 *   reference; a node the device does not implement yet must be refused with UNSUPPORTED_OP.
 */
import { type TestContext, afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../ts/backends/types.js';
import { DualbertError } from '../../ts/errors.js';
import { type BertGraph, buildBertGraph } from '../../ts/graph/bert.js';
import { PreparedGraph, runGraph } from '../../ts/graph/execute.js';
import { describeNode } from '../../ts/graph/ops.js';
import { type GraphWeights, bindWeights } from '../../ts/graph/weights.js';
import { SYNTHETIC_MODELS, syntheticCheckpoint } from '../../ts/model/synthetic.js';
import type { GoldenShare, TestDevice } from './devices.js';
import { type Golden, batchFromIds, loadGolden, maxAbsDiff } from './golden.js';
import { type OpCase, opGraph, runOpParity } from './op-parity.js';

type ModelName = 'tiny' | 'minilm';

interface GoldenModel {
  golden: Golden;
  hiddenSize: number;
  mean: BertGraph;
  cls: BertGraph;
  weights: GraphWeights;
}

const models = new Map<ModelName, GoldenModel>();

/** The golden file, graphs and weights of a model, made once per test process (on first use, not at collection). */
function goldenModel(name: ModelName): GoldenModel {
  let m = models.get(name);
  if (!m) {
    const config = SYNTHETIC_MODELS[name].config;
    const mean = buildBertGraph(config, { pooling: 'mean', normalize: true });
    m = {
      golden: loadGolden(name),
      hiddenSize: config.hiddenSize,
      mean,
      cls: buildBertGraph(config, { pooling: 'cls', normalize: false }),
      weights: bindWeights(mean.weights, syntheticCheckpoint(config)),
    };
    models.set(name, m);
  }
  return m;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const chunks = (xs: number[], size: number): number[][] => range(Math.ceil(xs.length / size)).map((k) => xs.slice(k * size, (k + 1) * size));

/** The texts a device runs alone (see GoldenShare). */
function singleTexts(name: ModelName, share: GoldenShare, count: number): number[] {
  if (name === 'tiny' || share === 'all') return range(count);
  if (share === 'third') return range(count).filter((i) => i % 3 === 0);
  // 2 and 13 tokens, and the longest golden length (256: eight key tiles, four query blocks).
  return [0, 3, 37];
}

/** The padded batches a device runs: short and long texts mixed, so most rows carry padding. */
function paddedBatches(name: ModelName, share: GoldenShare, count: number): number[][] {
  const order = range(count).sort((a, b) => ((a * 7919) % 41) - ((b * 7919) % 41));
  if (name === 'tiny') return chunks(order, 7);
  if (share === 'few') return [[1, 18, 19, 6]]; // 2/5/58/35 tokens
  return chunks(order.slice(0, share === 'all' ? 24 : 12), 6);
}

/** max |Δ| / max(1, max |want|): for unnormalized vectors (cls, hidden states; |values| up to ~4). */
function relativeDiff(got: ArrayLike<number>, want: number[]): number {
  return maxAbsDiff(got, want) / Math.max(1, ...want.map(Math.abs));
}

/** Whole models against the golden vectors, on each device. */
export function describeGoldenModels(devices: readonly TestDevice[]): void {
  describe.each(devices)('$name', (device) => {
    describe.each(['tiny', 'minilm'] as const)('vs golden %s', (name) => {
      const tolerance = device.goldenTolerance;
      const label = `[${device.name} · ${name}]`;
      let backend: Backend | undefined;
      const backendFor = async (ctx: TestContext): Promise<Backend> => {
        backend ??= await device.create(goldenModel(name).weights, ctx);
        return backend;
      };
      afterAll(() => backend?.dispose());

      it('mean+normalize and cls, one text at a time', async (ctx) => {
        const b = await backendFor(ctx);
        const { golden, mean: meanGraph, cls: clsGraph, hiddenSize } = goldenModel(name);
        const lastHidden = meanGraph.hiddenStates[meanGraph.hiddenStates.length - 1]!;
        const singles = singleTexts(name, device.minilm, golden.texts.length);
        let worstMean = 0;
        let worstCls = 0;
        for (const i of singles) {
          const text = golden.texts[i]!;
          const batch = batchFromIds([text.input_ids]);
          // tiny runs the cls graph (the cls pooling kernel); minilm takes cls as row 0 of the
          // captured last hidden state, one forward instead of two.
          const { output: mean, captured } = await runGraph(meanGraph, b, batch, name === 'tiny' ? {} : { capture: [lastHidden] });
          const cls = name === 'tiny' ? (await runGraph(clsGraph, b, batch)).output : captured.get(lastHidden)!.subarray(0, hiddenSize);
          const dm = maxAbsDiff(mean, text.mean);
          const dc = relativeDiff(cls, text.cls);
          expect(dm, `text ${i} mean`).toBeLessThanOrEqual(tolerance);
          expect(dc, `text ${i} cls`).toBeLessThanOrEqual(tolerance);
          worstMean = Math.max(worstMean, dm);
          worstCls = Math.max(worstCls, dc);
        }
        console.log(`${label} ${singles.length} texts: max |Δ| mean ${worstMean.toExponential(2)}, cls (relative) ${worstCls.toExponential(2)}`);
      });

      it('padded batches give the golden vectors', async (ctx) => {
        const b = await backendFor(ctx);
        const { golden, mean: meanGraph, hiddenSize: C } = goldenModel(name);
        const batches = paddedBatches(name, device.minilm, golden.texts.length);
        let worst = 0;
        for (const idx of batches) {
          const out = (await runGraph(meanGraph, b, batchFromIds(idx.map((i) => golden.texts[i]!.input_ids)))).output;
          idx.forEach((ti, row) => {
            const d = maxAbsDiff(out.subarray(row * C, (row + 1) * C), golden.texts[ti]!.mean);
            expect(d, `text ${ti} in batch ${idx.join(',')}`).toBeLessThanOrEqual(tolerance);
            worst = Math.max(worst, d);
          });
        }
        console.log(`${label} ${batches.flat().length} texts in ${batches.length} padded batches: max |Δ| ${worst.toExponential(2)}`);
      });

      if (name === 'tiny') {
        it('hidden states match layer by layer (captures read back mid-graph activations)', async (ctx) => {
          const b = await backendFor(ctx);
          const { golden, mean: meanGraph } = goldenModel(name);
          const withStates = golden.texts.filter((t) => t.hidden_states);
          expect(withStates.length).toBeGreaterThan(0);
          let worst = 0;
          for (const text of withStates) {
            const i = golden.texts.indexOf(text);
            const { captured } = await runGraph(meanGraph, b, batchFromIds([text.input_ids]), { capture: meanGraph.hiddenStates });
            expect(meanGraph.hiddenStates.length).toBe(text.hidden_states!.length);
            meanGraph.hiddenStates.forEach((id, layer) => {
              const d = relativeDiff(captured.get(id)!, text.hidden_states![layer]!);
              expect(d, `text ${i} hidden state ${layer} (${id})`).toBeLessThanOrEqual(tolerance);
              worst = Math.max(worst, d);
            });
          }
          console.log(
            `${label} hidden states of ${withStates.length} texts, ${meanGraph.hiddenStates.length} layers: max |Δ| (relative) ${worst.toExponential(2)}`,
          );
        });
      }
    });
  });
}

/**
 * Every op case on each device against the float64 reference, with the device's tolerance. A
 * device whose `supports()` refuses a node (a pooling mode or head it has no kernel for yet) must
 * refuse it with UNSUPPORTED_OP naming the device and the node; once it claims the node, the case
 * is held to parity.
 */
export function describeOpParity(devices: readonly TestDevice[], cases: readonly OpCase[]): void {
  describe.each(devices)('$name: op parity with the reference', (device) => {
    // What a device implements does not depend on the weights: one weightless backend answers
    // supports() for every case (a threaded wasm backend takes ~0.2 s to start its workers).
    let probe: Backend | undefined;
    // The worst max |Δ| / max(1, |want|) per op (pooling per mode), printed once per device.
    const worst = new Map<string, number>();
    afterAll(() => {
      probe?.dispose();
      if (worst.size) console.log(`[${device.name}] op parity, max |Δ| (relative): ${[...worst].map(([op, d]) => `${op} ${d.toExponential(2)}`).join(', ')}`);
    });

    it.for(cases.map((c) => [c.name, c] as const))('%s', async ([, c], ctx) => {
      probe ??= await device.create(new Map(), ctx);
      if (!probe.supports(c.node)) {
        const error = refusal(() => new PreparedGraph(opGraph(c), probe!));
        expect(error).toBeInstanceOf(DualbertError);
        expect((error as DualbertError).code).toBe('UNSUPPORTED_OP');
        expect((error as DualbertError).message).toContain(`device ${device.device} does not implement ${describeNode(c.node)}`);
      } else {
        const r = await runOpParity((w) => device.create(w, ctx), c);
        const op = c.node.op === 'pool' ? `pool ${c.node.mode}` : c.node.op;
        worst.set(op, Math.max(worst.get(op) ?? 0, r.maxRel));
        expect(r.got.length).toBe(r.want.length);
        expect(r.want.length).toBeGreaterThan(0);
        const first = `${Array.from(r.got.slice(0, 3), (v) => v.toFixed(6))} / ${Array.from(r.want.slice(0, 3), (v) => v.toFixed(6))}`;
        expect(r.maxRel, `max |Δ| ${r.maxAbs.toExponential(2)}, first got / want ${first}`).toBeLessThanOrEqual(device.opTolerance(c));
      }
    });
  });
}

/** The error `f` throws (undefined when it returns). */
function refusal(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}
