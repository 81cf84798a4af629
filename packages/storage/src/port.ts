/**
 * Object storage: the one port through which model artifacts and snapshots reach a local directory
 * or an S3-compatible bucket. Keys are `/`-separated relative paths (see `checkKey`).
 */
import { AppError, BadInput } from "@reco/contracts";

export interface ObjectInfo {
  key: string;
  bytes: number;
}

export interface ObjectStorage {
  /** Where the objects live, for logs and errors (`/data/objects`, `s3://bucket/prefix/`). */
  readonly location: string;
  /**
   * Stores the whole body under `key`, replacing what was there. Atomic from a reader's view: a
   * concurrent or later `get` sees the old object or the new one in full, never a part.
   */
  put(key: string, body: Uint8Array | string): Promise<void>;
  /** `put` streamed from a file on disk (large artifacts and Parquet files are not buffered). */
  putFile(key: string, filePath: string): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * Streams the object into `filePath` (written to a temp file beside it, then renamed); false when
   * there is no object.
   */
  getToFile(key: string, filePath: string): Promise<boolean>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix` (a plain string prefix, as S3's), sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Removes the object; removing an absent one is not an error. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/** The storage could not be reached or refused the call. Reason `storage_unavailable`. */
export class StorageUnavailable extends AppError {
  declare readonly reason: "storage_unavailable";
  constructor(location: string, operation: string, key: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message || cause.name : String(cause);
    super(
      "UNAVAILABLE",
      `object storage ${location}: ${operation} ${JSON.stringify(key)} failed: ${why}`,
      { location, operation, key },
      { reason: "storage_unavailable", cause },
    );
  }
}

const SEGMENT = /^[A-Za-z0-9_=+@-][A-Za-z0-9._=+@-]{0,199}$/;

/**
 * A key is 1..1024 characters of `/`-separated segments of letters, digits and `. _ = + @ -`, none
 * empty and none starting with a dot (dot-names are the local adapter's temp files, and `..` could
 * climb out of its directory).
 */
export function checkKey(key: string, what = "object key"): string {
  if (typeof key !== "string" || key.length === 0 || key.length > 1024) {
    throw new BadInput(`${what} ${JSON.stringify(key)} must be 1..1024 characters`);
  }
  for (const segment of key.split("/")) {
    if (!SEGMENT.test(segment)) {
      throw new BadInput(
        `${what} ${JSON.stringify(key)}: segment ${JSON.stringify(segment)} must match ${SEGMENT} ` +
          "(no empty segment, no leading dot)",
      );
    }
  }
  return key;
}

/** A list prefix: any key prefix, or "" for everything. */
export function checkPrefix(prefix: string): string {
  if (prefix === "") return prefix;
  // "a/b/" and "a/b" are prefixes of valid keys; check the prefix as a key with a dummy tail.
  checkKey(prefix.endsWith("/") ? `${prefix}x` : prefix, "list prefix");
  return prefix;
}
