/**
 * Getting a WebGPU device: `navigator.gpu` in browsers, Dawn (the optional `webgpu` package) in
 * Node. The adapter is asked for `high-performance`; the device is created with the adapter's real
 * limits (the defaults cap workgroup storage at 16 KiB and storage bindings at 128 MiB, far below
 * what GPUs offer) and with the optional features the kernels use when present.
 */
import { isNode } from '../../env.js';
import { DualbertError } from '../../errors.js';
import type { LogLevel } from '../types.js';
import { INSTALL_WEBGPU_HINT, type RawProbe, isFallbackAdapter, probeInChild, quietProbeWanted, rawAdapter, webgpuPackagePath } from './dawn-package.js';

/** GPUBufferUsage / GPUMapMode values (fixed by the WebGPU spec), so Node needs no globals. */
export const Usage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  QUERY_RESOLVE: 0x0200,
} as const;
/** GPUMapMode.READ. */
export const MAP_READ_MODE = 0x0001;

/** What the kernels may use on this device. */
export interface GpuCapabilities {
  /** `subgroups` feature and the `subgroup_id` WGSL language feature (reduce.wgsl needs both). */
  subgroups: boolean;
  /** `shader-f16` was enabled (only when asked for fp16). */
  f16: boolean;
  /** `timestamp-query` was enabled. */
  timestamps: boolean;
  /** The WGSL language feature packed_4x8_integer_dot_product (dot4I8Packed, for q8 layers). */
  packedDot4?: boolean;
  /** A software adapter (SwiftShader, WARP: `isFallbackAdapter`), which compiles pipelines slowly, one at a time. */
  software?: boolean;
}

/** An open device with what it can do. */
export interface GpuContext {
  readonly device: GPUDevice;
  readonly capabilities: GpuCapabilities;
  /** vendor / architecture / device / description of the adapter. */
  readonly adapterInfo: Readonly<Record<'vendor' | 'architecture' | 'device' | 'description', string>>;
  /** Whether dualbert created the device (and so destroys it on dispose). */
  readonly owned: boolean;
}

/** How to get the device. */
export interface GpuRequest {
  /** An existing device to use (not destroyed on dispose); its features decide the variants. */
  device?: GPUDevice;
  /** The `GPU` object to ask for an adapter (default: navigator.gpu, or Dawn in Node). */
  gpu?: GPU;
  /** Dawn toggles in Node (e.g. 'disable-dawn-features=timestamp_quantization'). */
  dawnFlags?: readonly string[];
  /** Ask for shader-f16 (fp16 storage); fails when the adapter lacks it. */
  f16?: boolean;
  /** 'verbose' lets Dawn print in this process; otherwise Node first asks in a quiet child (dawn-package.ts). */
  logLevel?: LogLevel;
}

const nodeGpus = new Map<string, GPU>();

/** Dawn's `GPU` object for Node, created once per set of flags (dawn.node wants one instance). */
async function nodeGpu(flags: readonly string[]): Promise<GPU> {
  const key = flags.join('\n');
  const cached = nodeGpus.get(key);
  if (cached) return cached;
  if ((await webgpuPackagePath()) === undefined) throw new DualbertError('DEVICE_UNAVAILABLE', `device "webgpu": ${INSTALL_WEBGPU_HINT}`);
  // A computed specifier keeps bundlers from resolving the Node-only package for browsers.
  const specifier = ['web', 'gpu'].join('');
  let mod: { create(flags: string[]): GPU };
  try {
    mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as typeof mod;
  } catch (cause) {
    const why = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new DualbertError('DEVICE_UNAVAILABLE', `device "webgpu": the package "webgpu" (Dawn) is installed but could not be loaded: ${why}`, { cause });
  }
  const gpu = mod.create([...flags]);
  nodeGpus.set(key, gpu);
  return gpu;
}

/**
 * In Node, when Dawn is to be loaded here and quietly: what a child process found. Undefined
 * when the question does not arise (a browser, a GPU object handed over, verbose) or the child
 * could not run; otherwise the child's answer, or why there is no adapter (package missing).
 */
async function quietNodeProbe(request: Pick<GpuRequest, 'gpu' | 'dawnFlags' | 'logLevel'>): Promise<RawProbe | undefined> {
  if (!isNode || request.gpu || !quietProbeWanted(request.logLevel)) return undefined;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu && !request.dawnFlags) return undefined; // a GPU object installed globally (e.g. by a test)
  if (nodeGpus.has((request.dawnFlags ?? []).join('\n'))) return undefined; // Dawn is loaded here already
  const path = await webgpuPackagePath();
  if (path === undefined) return { adapter: null, reason: INSTALL_WEBGPU_HINT };
  return probeInChild(path, request.dawnFlags ?? []);
}

/** The `GPU` object of this environment, or a DEVICE_UNAVAILABLE error saying why there is none. */
export async function getGpu(request: Pick<GpuRequest, 'gpu' | 'dawnFlags'> = {}): Promise<GPU> {
  if (request.gpu) return request.gpu;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu && !request.dawnFlags) return nav.gpu;
  if (isNode) return nodeGpu(request.dawnFlags ?? []);
  throw new DualbertError(
    'DEVICE_UNAVAILABLE',
    'device "webgpu": this browser has no navigator.gpu (WebGPU needs a supporting browser and a secure context: https or localhost)',
  );
}

function noAdapterMessage(): string {
  if (isNode) {
    return (
      'device "webgpu": Dawn found no GPU adapter. It needs a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver; ' +
      "on Linux without a GPU, SwiftShader from Debian's chromium package works: " +
      'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (and LD_LIBRARY_PATH=/usr/lib/chromium when libvulkan1 is not installed)'
    );
  }
  return 'device "webgpu": navigator.gpu.requestAdapter() found no adapter (WebGPU disabled, or no usable GPU)';
}

const WANTED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
] as const;

function describeAdapter(info: GPUAdapterInfo | undefined): GpuContext['adapterInfo'] {
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
}

const PACKED_DOT4 = 'packed_4x8_integer_dot_product';

function hasLanguageFeature(gpu: GPU | undefined, name: string): boolean {
  return gpu?.wgslLanguageFeatures?.has(name) ?? false;
}

/** Opens (or adopts) a device for the webgpu backend. */
export async function openGpu(request: GpuRequest = {}): Promise<GpuContext> {
  if (request.device) {
    const device = request.device;
    const gpu = request.gpu ?? (await getGpu(request).catch(() => undefined));
    if (request.f16 && !device.features.has('shader-f16')) {
      throw new DualbertError('DEVICE_UNAVAILABLE', 'shaderF16 needs the shader-f16 feature, which the given device was not created with');
    }
    return {
      device,
      owned: false,
      adapterInfo: describeAdapter(device.adapterInfo),
      capabilities: {
        subgroups: device.features.has('subgroups') && hasLanguageFeature(gpu, 'subgroup_id'),
        f16: request.f16 === true,
        timestamps: device.features.has('timestamp-query'),
        packedDot4: hasLanguageFeature(gpu, PACKED_DOT4),
        software: (device.adapterInfo as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true,
      },
    };
  }

  const quiet = await quietNodeProbe(request);
  if (quiet && quiet.adapter === null) throw new DualbertError('DEVICE_UNAVAILABLE', quiet.reason === INSTALL_WEBGPU_HINT ? `device "webgpu": ${INSTALL_WEBGPU_HINT}` : `${noAdapterMessage()} (${quiet.reason})`);
  const gpu = await getGpu(request);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (cause) {
    throw new DualbertError('DEVICE_UNAVAILABLE', `${noAdapterMessage()} (requestAdapter threw: ${String(cause)})`, { cause });
  }
  if (!adapter) throw new DualbertError('DEVICE_UNAVAILABLE', noAdapterMessage());
  const adapterInfo = describeAdapter(adapter.info);
  const name = [adapterInfo.vendor, adapterInfo.architecture, adapterInfo.description].filter(Boolean).join(' ') || 'unknown';

  if (request.f16 && !adapter.features.has('shader-f16')) {
    throw new DualbertError(
      'DEVICE_UNAVAILABLE',
      `shaderF16 (f16 activations) needs the shader-f16 feature, which this adapter (${name}) does not offer: leave it off (dtype "fp16" alone keeps the weights in f16 on any adapter)`,
    );
  }
  const features: GPUFeatureName[] = [];
  const subgroups = adapter.features.has('subgroups') && hasLanguageFeature(gpu, 'subgroup_id');
  if (subgroups) features.push('subgroups');
  if (request.f16) features.push('shader-f16');
  const timestamps = adapter.features.has('timestamp-query');
  if (timestamps) features.push('timestamp-query');

  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) {
    const value = adapter.limits[k];
    if (typeof value === 'number') requiredLimits[k] = value; // older implementations lack some
  }

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits, label: 'dualbert' });
  } catch (cause) {
    throw new DualbertError('DEVICE_UNAVAILABLE', `device "webgpu": requestDevice failed on ${name}: ${String(cause)}`, { cause });
  }
  return { device, owned: true, adapterInfo, capabilities: { subgroups, f16: request.f16 === true, timestamps, packedDot4: hasLanguageFeature(gpu, PACKED_DOT4), software: isFallbackAdapter(adapter) } };
}

/** What a high-performance adapter request gets here, without creating a device. */
export type AdapterProbe =
  | {
      available: true;
      adapter: GpuContext['adapterInfo'];
      /** A software adapter (SwiftShader, WARP...): `isFallbackAdapter`. */
      fallback: boolean;
      features: string[];
      limits: Record<string, number>;
    }
  | { available: false; reason: string };

/** The probe's answer from an adapter's plain data. */
function fromRaw(raw: RawProbe): AdapterProbe {
  if (raw.adapter === null) return { available: false, reason: raw.reason };
  const { isFallbackAdapter, ...adapter } = raw.adapter.info;
  return { available: true, adapter, fallback: isFallbackAdapter, features: raw.adapter.features, limits: raw.adapter.limits };
}

/**
 * Asks for the adapter a high-performance request gets (navigator.gpu, or Dawn in Node) and
 * describes it, without creating a device. For choosing a device and for `capabilities()`; it
 * never throws. In Node, Dawn is asked in a child process (its native warnings stay off this
 * process's stderr) unless a `GPU` object is given or `logLevel` is 'verbose'.
 * @example
 * const probe = await probeAdapter();
 * const device = probe.available && !probe.fallback ? 'webgpu' : 'wasm';
 */
export async function probeAdapter(gpuObject?: GPU, options: { logLevel?: LogLevel } = {}): Promise<AdapterProbe> {
  try {
    const quiet = await quietNodeProbe({ ...(gpuObject ? { gpu: gpuObject } : {}), ...options });
    if (quiet) return fromRaw(quiet);
    const gpu = gpuObject ?? (await getGpu());
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { available: false, reason: 'requestAdapter() returned null (WebGPU disabled or no usable GPU)' };
    return fromRaw({ adapter: rawAdapter(adapter) });
  } catch (e) {
    return { available: false, reason: e instanceof Error ? e.message : String(e) };
  }
}
