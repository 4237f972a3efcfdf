/**
 * The quiet adapter probe (ts/backends/webgpu/dawn-package.ts): Dawn is asked in a child process
 * whose stderr is kept. Stand-ins for the `webgpu` package (modules exporting `create()`) give
 * each outcome without a GPU: an adapter, none with Dawn's words on stderr, a crash, a hang.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dawnDiagnostics, probeInChild } from '../ts/backends/webgpu/dawn-package.js';

const dir = mkdtempSync(join(tmpdir(), 'dualbert-dawn-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in package whose `create(flags).requestAdapter()` runs `body`. */
function fakeDawn(name: string, body: string): string {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, `export function create(flags) { return { async requestAdapter(options) { ${body} } }; }\n`);
  return file;
}

// What dawn.node prints without a Vulkan loader (its source location, which names the build
// machine's checkout in the real output, shortened to the path inside Dawn's tree).
const DAWN_STDERR =
  "Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory\n" +
  '    at operator() (third_party/dawn/src/dawn/native/vulkan/BackendVk.cpp:368)\n\n';

describe('the quiet Dawn probe', () => {
  it("shortens Dawn's stderr to one line without the source locations", () => {
    expect(dawnDiagnostics(DAWN_STDERR)).toBe("Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory");
    expect(dawnDiagnostics('')).toBe('');
    expect(dawnDiagnostics(`Error: ${'x'.repeat(400)}`)).toHaveLength(300);
  });

  it('reports an adapter as plain data, with the flags and the high-performance request passed on', async () => {
    const path = fakeDawn(
      'adapter',
      `return { info: { vendor: 'nvidia', architecture: '', device: 'nvidia-h200', description: options.powerPreference + ' ' + flags.join(',') },
        features: new Set(['subgroups', 'timestamp-query']), limits: { maxBufferSize: 1024, maxStorageBufferBindingSize: 512 } };`,
    );
    const probe = await probeInChild(path, ['enable-dawn-features=a']);
    expect(probe).toEqual({
      adapter: {
        info: { vendor: 'nvidia', architecture: '', device: 'nvidia-h200', description: 'high-performance enable-dawn-features=a', isFallbackAdapter: false },
        features: ['subgroups', 'timestamp-query'],
        limits: { maxBufferSize: 1024, maxStorageBufferBindingSize: 512 },
      },
    });
  });

  it("keeps Dawn's warnings out of this process and puts them in the reason", async () => {
    const path = fakeDawn('none', `process.stderr.write(${JSON.stringify(DAWN_STDERR)}); return null;`);
    expect(await probeInChild(path)).toEqual({
      adapter: null,
      reason: "requestAdapter() returned null (Dawn: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory)",
    });
  });

  it('a crash inside Dawn means no adapter; a hang is cut at the timeout; a plain exit is no answer', async () => {
    const crash = await probeInChild(fakeDawn('crash', "process.stderr.write('Error: device lost\\n'); process.kill(process.pid, 'SIGKILL'); await new Promise(() => {});"));
    expect(crash).toEqual({ adapter: null, reason: 'Dawn stopped (SIGKILL) while looking for an adapter (device lost)' });
    // An exit without an answer and without a signal says nothing about the GPU: undefined (ask in-process).
    expect(await probeInChild(fakeDawn('exit', 'process.exit(3);'))).toBeUndefined();
    const hang = await probeInChild(fakeDawn('hang', 'await new Promise(() => setInterval(() => {}, 1000));'), [], 1500);
    expect(hang).toEqual({ adapter: null, reason: 'Dawn did not answer within 1500 ms' });
  });

  it('a package that fails to load is no adapter, with the reason; the answer is kept per package', async () => {
    const broken = join(dir, 'broken.mjs');
    writeFileSync(broken, "throw new Error('dawn.node: GLIBC_2.38 not found');\n");
    const first = probeInChild(broken);
    expect(probeInChild(broken)).toBe(first); // asked once per process
    expect(await first).toEqual({ adapter: null, reason: 'loading Dawn failed: dawn.node: GLIBC_2.38 not found' });
  });
});
