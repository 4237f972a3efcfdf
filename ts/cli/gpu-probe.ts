/**
 * Whether `--device auto` would take the GPU here, asked in a child process. Dawn prints its
 * Vulkan problems ("Couldn't load Vulkan", "vkCreateInstance: Found no drivers!") straight to
 * file descriptor 2 when it finds no usable driver, which Node cannot silence in-process; the
 * child's stderr is kept away from the user's. When the child finds no hardware adapter, the
 * command runs on wasm without loading Dawn at all (the device auto would have picked); with a
 * hardware GPU, auto runs as usual. `--verbose` skips the probe and lets Dawn speak.
 */
import { spawn } from 'node:child_process';
import type { Capabilities } from '../detect.js';

/** What the probe found: whether auto takes the GPU, and the capability report. */
export interface GpuProbe {
  useGpu: boolean;
  capabilities: Capabilities;
}

/** Runs the probe; undefined when it could not run (then the caller falls back to in-process detection). */
export function probeGpu(timeoutMs = 30_000): Promise<GpuProbe | undefined> {
  const gpu = new URL('../backends/webgpu/gpu.js', import.meta.url).href;
  const detect = new URL('../detect.js', import.meta.url).href;
  const script = `
    const [{ probeAdapter }, { capabilities }] = await Promise.all([import(${JSON.stringify(gpu)}), import(${JSON.stringify(detect)})]);
    const probe = await probeAdapter();
    const caps = await capabilities();
    process.stdout.write(JSON.stringify({ useGpu: probe.available && !probe.fallback, capabilities: caps }), () => process.exit(0));`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.resume(); // Dawn's native warnings end here
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        resolve(code === 0 ? (JSON.parse(out) as GpuProbe) : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}
