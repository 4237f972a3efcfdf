/**
 * Dawn in Node: where the optional `webgpu` package is, and asking it for an adapter in a child
 * process. Dawn prints its Vulkan problems ("Couldn't load Vulkan", "vkCreateInstance: Found no
 * drivers!") from native code straight to file descriptor 2, which Node cannot silence inside
 * the process; a child's stderr can be kept. So the first question ("is there a usable
 * adapter?") is asked in a child, and Dawn is loaded here only when the answer is yes (or when
 * `logLevel: 'verbose'` asks to see everything). The answer is kept for the life of the process.
 *
 * Node-only: every Node module is imported dynamically, so browser bundles never load them.
 */
import type { LogLevel } from '../types.js';

/** One line on installing Dawn, for messages. */
export const INSTALL_WEBGPU_HINT =
  'WebGPU in Node needs the package "webgpu" (Dawn), an optional dependency of dualbert that is not installed here: npm install webgpu';

/** What an adapter says about itself, as plain data (what the child sends back). */
export interface RawAdapter {
  info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter: boolean };
  features: string[];
  limits: Record<string, number>;
}

/** The answer of a probe: an adapter, or none and why. */
export type RawProbe = { adapter: RawAdapter } | { adapter: null; reason: string };

/** Limits copied into the report (and into the child's answer). */
export const REPORTED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Whether an adapter is a software fallback (SwiftShader, WARP): `info.isFallbackAdapter`, or the older `adapter.isFallbackAdapter`. */
export function isFallbackAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  return info?.isFallbackAdapter === true || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
}

/** Plain data of an adapter (the same in the child and here). */
export function rawAdapter(adapter: GPUAdapter): RawAdapter {
  const info = adapter.info as GPUAdapterInfo | undefined;
  const limits: Record<string, number> = {};
  for (const k of REPORTED_LIMITS) limits[k] = adapter.limits[k];
  return {
    info: {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
      isFallbackAdapter: isFallbackAdapter(adapter),
    },
    features: [...adapter.features].map(String).sort(),
    limits,
  };
}

let resolved: Promise<string | undefined> | undefined;

/** The file `import('webgpu')` loads from dualbert's location, or undefined when it is not installed. */
export function webgpuPackagePath(): Promise<string | undefined> {
  resolved ??= (async () => {
    try {
      const { createRequire } = await import('node:module');
      return createRequire(import.meta.url).resolve('webgpu');
    } catch {
      return undefined;
    }
  })();
  return resolved;
}

// The child: loads Dawn from the path given, asks for a high-performance adapter, and writes
// rawAdapter()'s fields as JSON on stdout. Kept in step with rawAdapter() above.
const CHILD = `
const [path, flags, limitNames] = JSON.parse(process.argv[1]);
const { pathToFileURL } = await import('node:url');
let answer;
try {
  const { create } = await import(pathToFileURL(path).href);
  const adapter = await create(flags).requestAdapter({ powerPreference: 'high-performance' });
  if (adapter) {
    const info = adapter.info ?? {};
    const limits = {};
    for (const k of limitNames) limits[k] = adapter.limits[k];
    answer = { adapter: { info: { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '',
      description: info.description ?? '', isFallbackAdapter: info.isFallbackAdapter === true || adapter.isFallbackAdapter === true },
      features: [...adapter.features].map(String).sort(), limits } };
  } else answer = { adapter: null, reason: 'requestAdapter() returned null' };
} catch (e) {
  answer = { adapter: null, reason: 'loading Dawn failed: ' + (e && e.message ? e.message.split('\\n')[0] : String(e)) };
}
process.stdout.write(JSON.stringify(answer), () => process.exit(0));`;

/** Dawn's own words on stderr, shortened to one line: "Couldn't load Vulkan: libvulkan.so.1: …". */
export function dawnDiagnostics(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('at '))
    .map((l) => l.replace(/^(Warning|Error|Info): /, ''));
  const text = [...new Set(lines)].join('; ');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

const childProbes = new Map<string, Promise<RawProbe | undefined>>();

/**
 * Asks Dawn for an adapter in a child process whose stderr is kept (see the top of this file).
 * Undefined when the child could not run at all (no `process.execPath` that is Node, a sandbox):
 * the caller then asks in-process.
 */
export function probeInChild(packagePath: string, flags: readonly string[] = [], timeoutMs = 30_000): Promise<RawProbe | undefined> {
  const key = `${packagePath}\n${flags.join('\n')}`;
  let probe = childProbes.get(key);
  if (!probe) {
    probe = runChild(packagePath, flags, timeoutMs);
    childProbes.set(key, probe);
  }
  return probe;
}

async function runChild(packagePath: string, flags: readonly string[], timeoutMs: number): Promise<RawProbe | undefined> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      const args = ['--input-type=module', '-e', CHILD, JSON.stringify([packagePath, flags, REPORTED_LIMITS])];
      // ELECTRON_RUN_AS_NODE: in Electron's main process execPath is Electron, which then acts as Node.
      child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    } catch {
      resolve(undefined);
      return;
    }
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d.slice(0, 4096)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    timer.unref?.();
    child.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        resolve({ adapter: null, reason: `Dawn did not answer within ${timeoutMs} ms` });
        return;
      }
      let answer: RawProbe;
      try {
        answer = JSON.parse(out) as RawProbe;
      } catch {
        // Killed by a signal (a crash inside Dawn: SIGSEGV, SIGABRT): no usable GPU here either.
        // Any other failure (a runtime whose execPath does not take these flags) says nothing
        // about the GPU: the caller asks in-process.
        const said = dawnDiagnostics(err);
        resolve(signal ? { adapter: null, reason: `Dawn stopped (${signal}) while looking for an adapter${said ? ` (${said})` : ''}` } : undefined);
        return;
      }
      const said = dawnDiagnostics(err);
      if (answer.adapter === null && said) answer = { adapter: null, reason: `${answer.reason} (Dawn: ${said})` };
      resolve(answer);
    });
  });
}

/** Whether a probe should run in a child (Node, Dawn not handed over, not verbose). */
export function quietProbeWanted(logLevel: LogLevel | undefined): boolean {
  return logLevel !== 'verbose';
}
