export declare const CHROMIUM_DIR: string;
export declare const SWIFTSHADER_ICD: string;
export declare function hasSystemVulkanLoader(): boolean;
export declare function gpuTestEnv(env?: NodeJS.ProcessEnv): Record<string, string>;
