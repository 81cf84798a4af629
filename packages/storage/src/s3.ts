/**
 * The S3 adapter, for any S3-compatible server (path-style addressing, SigV4). A PUT is atomic on
 * S3: the object becomes visible only once its upload completed. Every key is stored under the
 * optional `prefix`, so several deployments or test runs can share one bucket.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import {
  type ObjectInfo,
  type ObjectStorage,
  StorageUnavailable,
  checkKey,
  checkPrefix,
} from "./port.ts";

export interface S3StorageConfig {
  /** http(s)://host:port of the S3-compatible server */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** default us-east-1 (most S3-compatible servers ignore it, but SigV4 signs it) */
  region?: string;
  /** every key is stored under it ("" or "a/b/") */
  prefix?: string;
  /** per-request timeout, default 30 s */
  requestTimeoutMs?: number;
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return (
    error.name === "NoSuchKey" ||
    error.name === "NotFound" ||
    error.$metadata.httpStatusCode === 404
  );
}

export class S3Storage implements ObjectStorage {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(config: S3StorageConfig) {
    this.bucket = config.bucket;
    this.prefix = config.prefix ?? "";
    if (this.prefix !== "" && !this.prefix.endsWith("/")) this.prefix += "/";
    if (this.prefix !== "") checkPrefix(this.prefix);
    this.location = `s3://${this.bucket}/${this.prefix} at ${config.endpoint}`;
    const timeout = config.requestTimeoutMs ?? 30_000;
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region ?? "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      // Servers other than AWS do not all know the SDK's newer default CRC checksums.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
      requestHandler: { connectionTimeout: Math.min(timeout, 5_000), requestTimeout: timeout },
    });
  }

  private objectKey(key: string): string {
    return `${this.prefix}${checkKey(key)}`;
  }

  private async call<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof StorageUnavailable) throw error;
      throw new StorageUnavailable(this.location, operation, key, error);
    }
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const Key = this.objectKey(key);
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    await this.call("put", key, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: bytes })),
    );
  }

  async putFile(key: string, filePath: string): Promise<void> {
    const Key = this.objectKey(key);
    const { size } = await stat(filePath);
    await this.call("put", key, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: createReadStream(filePath),
          ContentLength: size,
        }),
      ),
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const Key = this.objectKey(key);
    return this.call("get", key, async () => {
      try {
        const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
        return await answer.Body!.transformToByteArray();
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    });
  }

  async getToFile(key: string, filePath: string): Promise<boolean> {
    const Key = this.objectKey(key);
    await mkdir(path.dirname(filePath), { recursive: true });
    const temp = `${filePath}.tmp-${randomBytes(6).toString("hex")}`;
    return this.call("get", key, async () => {
      try {
        const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
        await pipeline(answer.Body as Readable, createWriteStream(temp, { flags: "wx" }));
        await rename(temp, filePath);
        return true;
      } catch (error) {
        await rm(temp, { force: true });
        if (isNotFound(error)) return false;
        throw error;
      }
    });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.objectKey(key);
    return this.call("head", key, async () => {
      try {
        const answer = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
        return { key, bytes: answer.ContentLength ?? 0 };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    });
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    checkPrefix(prefix);
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.call("list", prefix, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: `${this.prefix}${prefix}`,
            ContinuationToken: token,
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        out.push({ key: object.Key.slice(this.prefix.length), bytes: object.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    await this.call("delete", key, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })),
    );
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
