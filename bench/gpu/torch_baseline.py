#!/usr/bin/env python3
"""PyTorch CUDA fp32 baseline for the WebGPU benchmark (issue #18): a BERT encoder with the
all-MiniLM-L6-v2 shapes (hidden 384, 6 layers, 12 heads, FFN 1536, vocabulary 30522), random
weights (timing only), mean pooling + L2 normalization, in eager PyTorch. TF32 is off
(torch.backends.cuda.matmul.allow_tf32 = False, cudnn too): plain fp32 GEMMs, as the WGSL
kernels compute. Attention through torch.nn.functional.scaled_dot_product_attention with the
padding mask (all keys real here), which is what transformers' BERT uses on CUDA (sdpa).

Cases: B1 T16, B32 T128, B256 T128 (one forward each) and 1000 × T512 in batches of 64 (16
forwards). Per case: median ms over --runs after warm-up, each run CUDA-synchronized (the wall
time of the forward passes incl. the pooled output on the GPU; no tokenization, no copy back),
and CUDA-event GPU ms. Prints a table and writes JSON (--json FILE).

  python3 bench/gpu/torch_baseline.py [--runs 10] [--json out.json] [--quick]
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--runs", type=int, default=10)
p.add_argument("--json")
p.add_argument("--quick", action="store_true", help="CPU-sized shapes: checks the script")
p.add_argument("--device", default="cuda")
args = p.parse_args()

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_float32_matmul_precision("highest")

V, C, L, H, I, P = 30522, 384, 6, 12, 1536, 512
device = torch.device(args.device if torch.cuda.is_available() or args.device == "cpu" else "cpu")
cuda = device.type == "cuda"


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = torch.nn.Linear(C, 3 * C)
        self.o = torch.nn.Linear(C, C)
        self.ln1 = torch.nn.LayerNorm(C, eps=1e-12)
        self.up = torch.nn.Linear(C, I)
        self.down = torch.nn.Linear(I, C)
        self.ln2 = torch.nn.LayerNorm(C, eps=1e-12)

    def forward(self, x, mask):
        B, T, _ = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, H, C // H).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = self.ln1(x + self.o(a.transpose(1, 2).reshape(B, T, C)))
        return self.ln2(x + self.down(F.gelu(self.up(x))))


class Bert(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.word = torch.nn.Embedding(V, C)
        self.pos = torch.nn.Embedding(P, C)
        self.token_type = torch.nn.Embedding(2, C)
        self.ln = torch.nn.LayerNorm(C, eps=1e-12)
        self.layers = torch.nn.ModuleList(Layer() for _ in range(L))

    def forward(self, ids, attention_mask):
        B, T = ids.shape
        x = self.ln(self.word(ids) + self.pos.weight[:T] + self.token_type.weight[0])
        # Additive mask over keys, broadcast over heads and queries (0 for real keys).
        mask = torch.zeros(B, 1, 1, T, device=ids.device, dtype=x.dtype).masked_fill(attention_mask[:, None, None, :] == 0, -1e30)
        for layer in self.layers:
            x = layer(x, mask)
        m = attention_mask[..., None].to(x.dtype)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, dim=-1)


torch.manual_seed(0)
model = Bert().to(device).eval()
for prm in model.parameters():
    prm.data.normal_(0, 0.02)

CASES = [("B1 T16", 1, 16, 1), ("B32 T128", 32, 128, 32), ("B256 T128", 256, 128, 256), ("1000×T512", 1000, 512, 64)]
if args.quick:
    CASES = [("B1 T16", 1, 16, 1), ("B4 T32", 4, 32, 4), ("10×T32", 10, 32, 4)]


def flop_of(docs, T):
    per_token = 2 * (4 * C * C + 2 * C * I) + 4 * T * C
    return docs * T * per_token * L


def save():
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def fmt(x):
    return "–" if x is None else f"{x:.2f}"


def sync():
    if cuda:
        torch.cuda.synchronize()


results = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0) if cuda else "cpu", "tf32": torch.backends.cuda.matmul.allow_tf32, "cases": []}
print(f"PyTorch {torch.__version__} on {results['device']}, fp32 (TF32 off), minilm shapes, eager, sdpa attention")
with torch.inference_mode():
    for name, docs, T, batch in CASES:
        batches = []
        for start in range(0, docs, batch):
            B = min(batch, docs - start)
            ids = torch.randint(1000, 29000, (B, T), device=device)
            batches.append((ids, torch.ones(B, T, dtype=torch.long, device=device)))

        def forward():
            out = None
            for ids, mask in batches:
                out = model(ids, mask)
            return out

        warm = 2 if docs * T < 100_000 else 1
        for _ in range(warm):
            forward()
        sync()
        walls, gpus = [], []
        runs = args.runs if docs * T < 100_000 else max(3, args.runs // 2)
        for _ in range(runs):
            if cuda:
                start_ev, end_ev = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start_ev.record()
            t0 = time.perf_counter()
            forward()
            if cuda:
                end_ev.record()
            sync()
            walls.append((time.perf_counter() - t0) * 1000)
            if cuda:
                gpus.append(start_ev.elapsed_time(end_ev))
        wall = statistics.median(walls)
        gpu = statistics.median(gpus) if gpus else None
        tflops = flop_of(docs, T) / (wall / 1000) / 1e12
        row = {"name": name, "docs": docs, "T": T, "batch": batch, "wallMs": wall, "gpuMs": gpu, "tflops": tflops, "walls": walls}
        results["cases"].append(row)
        print(f"{name}: {wall:.2f} ms (CUDA events {fmt(gpu)} ms), {tflops:.1f} TFLOP/s", flush=True)
        save()  # after every case: a run cut by its time cap keeps what it measured

print("\n| case | torch fp32 ms | CUDA-event ms | TFLOP/s |\n|---|---|---|---|")
for r in results["cases"]:
    print(f"| {r['name']} | {r['wallMs']:.2f} | {fmt(r['gpuMs'])} | {r['tflops']:.1f} |")
save()
if args.json:
    print(f"wrote {args.json}")
sys.exit(0)
