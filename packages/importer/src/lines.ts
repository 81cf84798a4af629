import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createInterface } from "node:readline";

export interface Line {
  /** 1-based line number in the file */
  number: number;
  text: string;
}

/** Streams a text file line by line, reporting bytes read so callers can draw progress. */
export async function* readLines(
  filePath: string,
  onBytes?: (bytesRead: number, totalBytes: number) => void,
): AsyncGenerator<Line> {
  const { size } = await stat(filePath);
  const stream = createReadStream(filePath, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let number = 0;
  let bytes = 0;
  for await (const text of lines) {
    number += 1;
    bytes += Buffer.byteLength(text) + 1;
    if (onBytes && number % 2000 === 0) onBytes(Math.min(bytes, size), size);
    yield { number, text };
  }
  onBytes?.(size, size);
}
