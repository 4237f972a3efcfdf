// Headless Chromium for browser tests through playwright-core, using the system Chromium
// (Debian's package; never a downloaded browser). Flags (as seen working on Debian 12 with chromium 15x):
// WebGPU on SwiftShader needs the Vulkan + SwiftShader flags; without them Chromium still has
// navigator.gpu but requestAdapter() resolves to null (our "no usable GPU" case).

import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const BASE_FLAGS = [
  '--no-sandbox', // tests run as root in CI containers
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];

export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export function chromiumMissingReason(): string {
  return (
    `no Chromium at ${CHROMIUM_PATH} (install Debian's chromium package: ` +
    '`apt-get install -y chromium`, or set CHROMIUM_PATH)'
  );
}

/** Launch headless Chromium, with or without the SwiftShader WebGPU flags. */
export function launchChromium(opts: { webgpu: boolean }): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: opts.webgpu ? [...BASE_FLAGS, ...WEBGPU_FLAGS] : BASE_FLAGS,
  });
}
