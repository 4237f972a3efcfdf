// synthetic:minilm as the CPU benchmarks give it to both engines (bench/cpu/runner.mjs for
// bench/cpu.mjs, and bench/cpu-ab.mjs): one ONNX file for onnxruntime-web (float32, or its
// Linear layers as onnxruntime's quantize_dynamic writes them), and dualbert's graph and weights
// read from the same weights (the q8 ones from that very file). Over the built dist/.
const dist = (p) => new URL(`../../dist/${p}`, import.meta.url).href;

/** dtype: 'fp32' (or undefined), 'q8' (uint8 weights) or 'q8-7bit' (int8 weights in 7 bits). */
export async function benchMinilm(dtype = 'fp32') {
  if (!['fp32', 'q8', 'q8-7bit'].includes(dtype)) throw new Error(`unknown dtype "${dtype}": fp32, q8 or q8-7bit`);
  const { SYNTHETIC_MODELS, syntheticCheckpoint } = await import(dist('model/synthetic.js'));
  const { writeBertOnnx } = await import(new URL('../onnx/bert-onnx.mjs', import.meta.url).href);
  const config = SYNTHETIC_MODELS.minilm.config;
  const q8 = dtype !== 'fp32';
  const onnxBytes = () => writeBertOnnx(config, syntheticCheckpoint(config), q8 ? { quantize: dtype === 'q8' ? 'uint8' : 'int8-7bit' } : {});
  /** dualbert's graph (mean pooling, normalized) and bound weights. */
  const dualbertModel = async () => {
    const { buildBertGraph } = await import(dist('graph/bert.js'));
    const { bindWeights, quantizedNames } = await import(dist('graph/weights.js'));
    const { readOnnxCheckpoint } = await import(dist('model/onnx.js'));
    const checkpoint = q8 ? readOnnxCheckpoint(onnxBytes(), config) : syntheticCheckpoint(config);
    const graph = buildBertGraph(config, { pooling: 'mean', normalize: true }, { quantized: quantizedNames(checkpoint) });
    return { graph, weights: bindWeights(graph.weights, checkpoint) };
  };
  return { config, onnxBytes, dualbertModel };
}
