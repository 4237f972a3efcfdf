"""Exports the real-shaped family models of the benchmarks to ONNX, for onnxruntime's WebGPU EP.

    python3 bench/gpu/export_family_onnx.py OUT_DIR [NAME ...]

NAME is a golden of test/fixtures/families/real/ (xlm-roberta-e5-small, mpnet-base,
modernbert-base, nomic-bert-v1.5; all by default). Each model is built with transformers' own
class from the config stored in its golden, filled with the recipe weights of
test/fixtures/generate/recipe.py (what bench/gpu/family-models.mjs builds in JavaScript: the
same weights in both engines, with nothing stored), and exported with torch.onnx.export
(TorchScript exporter, opset 17, eager attention; inputs input_ids and attention_mask, output
last_hidden_state, batch and sequence axes dynamic) to OUT_DIR/NAME.onnx. onnxruntime's CPU EP
then runs the golden's longest sequence (unpadded: the benchmark runs full-length batches only,
and the tracing exporter keeps the branches transformers' masking code took on the traced batch)
and the file is refused when it is further than 1e-2 from the golden's float64 outputs (the
loosest bound dualbert's wasm path meets, ModernBERT's); OUT_DIR/NAME.json records that
difference, the versions and the ops. bench/gpu.mjs also compares onnxruntime's WebGPU output
with dualbert's on every benchmarked shape. Needs torch, transformers 5, onnx and
onnxruntime (the project's GPU machine has them); no GPU.
"""

import gzip
import inspect
import json
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "test", "fixtures", "generate"))
from recipe import fill_recipe  # noqa: E402

REAL = os.path.join(ROOT, "test", "fixtures", "families", "real")
NAMES = ["xlm-roberta-e5-small", "mpnet-base", "modernbert-base", "nomic-bert-v1.5"]


def build(golden):
    """The golden's model: its transformers class and config, recipe weights, float32, eager."""
    cls = getattr(transformers, golden["class"])
    cfg = dict(golden["config"])
    config = cls.config_class.from_dict(cfg)
    kwargs = {"add_pooling_layer": False} if "add_pooling_layer" in inspect.signature(cls.__init__).parameters else {}
    model = cls(config, **kwargs)
    got = [[n, list(p.shape)] for n, p in model.named_parameters()]
    if got != golden["parameters"]:
        raise RuntimeError(f"{golden['class']}: parameters differ from the golden's: the model would not be the benchmarked one")
    fill_recipe(model)
    model = model.float().eval()
    model.set_attn_implementation("eager")
    return model


class LastHiddenState(torch.nn.Module):
    """One tensor out (the exporter's output names need a plain output)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def batch(vocab, pad_id, lengths):
    """Sequences of these lengths (ids in [3, vocab), not the pad id), right-padded."""
    rng = np.random.default_rng(5)
    T = max(lengths)
    ids = np.full((len(lengths), T), pad_id, dtype=np.int64)
    mask = np.zeros((len(lengths), T), dtype=np.int64)
    for b, n in enumerate(lengths):
        row = rng.integers(3, vocab, size=n)
        row[row == pad_id] = 3
        ids[b, :n] = row
        mask[b, :n] = 1
    return ids, mask


def export(name, out_dir):
    with gzip.open(os.path.join(REAL, f"{name}.json.gz"), "rt", encoding="utf-8") as f:
        golden = json.loads(f.read().replace("NaN", "null"))
    started = time.time()
    model = build(golden)
    pad_id = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    ids, mask = batch(model.config.vocab_size, pad_id, (23, 23))
    path = os.path.join(out_dir, f"{name}.onnx")
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}, "last_hidden_state": {0: "batch", 1: "sequence"}}
    torch.onnx.export(LastHiddenState(model), (torch.from_numpy(ids), torch.from_numpy(mask)), path, input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
    exported = time.time() - started
    # The golden's first sequence (its longest) alone: its kept rows of last_hidden_state and its mean.
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    first = np.asarray([golden["input_ids"][0]], dtype=np.int64)
    hidden = session.run(None, {"input_ids": first, "attention_mask": np.ones_like(first)})[0][0].astype(np.float64)
    kept = golden["last_hidden_state_rows"][0]
    diff = max(float(np.abs(hidden.mean(0) - np.asarray(golden["mean"][0])).max()),
               float(np.abs(hidden[kept["rows"]] - np.asarray(kept["values"])).max()))
    info = {
        "golden": f"test/fixtures/families/real/{name}.json.gz",
        "class": golden["class"],
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__},
        "bytes": os.path.getsize(path),
        "ops": sorted({n.op_type for n in onnx.load(path, load_external_data=False).graph.node}),
        "onnxruntime_cpu_vs_golden_float64_max_abs": diff,
        "golden_sequence_tokens": len(golden["input_ids"][0]),
        "export_seconds": round(exported, 1),
    }
    with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
    print(f"{name}: {info['bytes'] / 2**20:.0f} MiB in {exported:.0f} s; onnxruntime CPU within {diff:.2e} of the float64 golden", flush=True)
    if not diff <= 1e-2:
        raise RuntimeError(f"{name}: onnxruntime's output is {diff} from the golden: the export is not the golden's model")


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        sys.exit(2)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    names = sys.argv[2:] or NAMES
    for name in names:
        if name not in NAMES:
            print(f"unknown model {name!r}: one of {', '.join(NAMES)}", file=sys.stderr)
            sys.exit(2)
    failed = []
    for name in names:
        try:
            export(name, out_dir)
        except Exception as e:  # noqa: BLE001  (one model's failure leaves the others)
            print(f"{name}: FAILED: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            if os.path.exists(os.path.join(out_dir, f"{name}.onnx")):
                os.remove(os.path.join(out_dir, f"{name}.onnx"))
            failed.append(name)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
