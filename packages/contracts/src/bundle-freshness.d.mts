export declare const repoRoot: string;
export declare function threadBundleDir(): string;
export declare function bundlePaths(
  entry: string,
  dir?: string,
): { bundle: string; manifest: string };
export declare function sha256(file: string): string;
export declare function freshBundle(entryFile: string, dir?: string): string | undefined;
