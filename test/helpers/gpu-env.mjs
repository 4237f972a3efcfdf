// Environment for WebGPU on CPU-only machines, shared by scripts/test.mjs and vitest.config.ts
// (plain .mjs so both can import it; types in gpu-env.d.mts).
//
// Debian's chromium package ships Google's SwiftShader Vulkan driver and its own Vulkan loader
// (/usr/lib/chromium/libvulkan.so.1). Dawn (the `webgpu` npm package) dlopen()s
// `libvulkan.so.1`; on a machine without the system loader (Debian package libvulkan1, which
// chromium does not depend on) Dawn finds no Vulkan at all. LD_LIBRARY_PATH is read by the
// dynamic loader at process start only, so it has to be in the environment of the process that
// loads dawn.node (the vitest fork), not set from inside it.

import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';

export const CHROMIUM_DIR = '/usr/lib/chromium';
export const SWIFTSHADER_ICD = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`;

const SYSTEM_LIB_DIRS = [
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib/aarch64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/lib64',
  '/usr/lib64',
  '/lib',
  '/usr/lib',
  '/usr/local/lib',
];

/** True when a system-wide Vulkan loader (libvulkan.so.1) is installed. */
export function hasSystemVulkanLoader() {
  return SYSTEM_LIB_DIRS.some((dir) => existsSync(`${dir}/libvulkan.so.1`));
}

/**
 * Environment variables to add so that Dawn in Node finds SwiftShader: VK_ICD_FILENAMES when
 * chromium's ICD exists and the variable is unset; LD_LIBRARY_PATH += /usr/lib/chromium when
 * there is no system Vulkan loader but chromium's bundled one exists. Returns only the
 * variables that change; never overrides a value the user set.
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {Record<string, string>}
 */
export function gpuTestEnv(env = process.env) {
  /** @type {Record<string, string>} */
  const out = {};
  if (process.platform !== 'linux') return out;
  if (!env.VK_ICD_FILENAMES && !env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD)) {
    out.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  const ld = env.LD_LIBRARY_PATH ?? '';
  if (
    !hasSystemVulkanLoader() &&
    existsSync(`${CHROMIUM_DIR}/libvulkan.so.1`) &&
    !ld.split(delimiter).includes(CHROMIUM_DIR)
  ) {
    out.LD_LIBRARY_PATH = ld ? `${ld}${delimiter}${CHROMIUM_DIR}` : CHROMIUM_DIR;
  }
  return out;
}
