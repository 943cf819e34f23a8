// Types of manifest.mjs (plain JavaScript: the bin imports it before any build exists).

/** apps/vmm/ (absolute, with a trailing slash). */
export declare const APP: string;
/** The monorepo root; manifest paths are relative to it. */
export declare const ROOT: string;
/** apps/vmm/dist: build directories (one per distinct output) and manifest.json. */
export declare const DIST: string;

/** dist/manifest.json. */
export interface Manifest {
  readonly version: number;
  /** The current build directory, a name under dist/. */
  readonly build: string;
  /** The CLI entry, relative to the build directory. */
  readonly main: string;
  /** Path relative to the root -> [mtimeMs, size in bytes, SHA-256 hex] as the build read it. */
  readonly sources: Readonly<Record<string, readonly [number, number, string]>>;
}

export type BundleState = { readonly fresh: true; readonly main: string } | { readonly fresh: false; readonly reason: string };

/** SHA-256 hex of a file's bytes or of a string. */
export declare function sha256(data: string | Uint8Array): string;
/** The manifest of `dist`, or undefined when there is none or it is unreadable. */
export declare function readManifest(dist?: string): Manifest | undefined;
/** Replaces the manifest of `dist` atomically. */
export declare function writeManifest(build: string, main: string, sources: Manifest['sources'], dist?: string): void;
/**
 * Whether `dist` holds a bundle built from the sources (relative to `root`) as they are now:
 * `main` is the absolute path of the bundled CLI; `reason` a short phrase (`not built`,
 * `packages/core/src/x.ts changed`, `... removed`).
 */
export declare function bundleState(dist?: string, root?: string): BundleState;
