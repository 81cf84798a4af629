import { randomFillSync } from "node:crypto";

const HEX = Buffer.from("0123456789abcdef", "latin1");
/** Random bytes for this many ids are drawn at once (node's randomUUID buffers 128). */
const BATCH = 256;
const entropy = Buffer.alloc(16 * BATCH);
let used = BATCH;
const text = Buffer.alloc(36);

/**
 * A random (version 4) UUID, as `crypto.randomUUID()` makes it — the same CSPRNG, bytes drawn in
 * batches — but written as ASCII into one buffer and read out as one string. node's randomUUID joins
 * 20 pieces into a tree of strings that is flattened again where the id is used; every answer makes
 * four ids (request, recommendation and its two exposure events), ~0.2 µs and ~600 bytes each.
 */
export function randomId(): string {
  if (used === BATCH) {
    randomFillSync(entropy);
    used = 0;
  }
  const offset = 16 * used++;
  let at = 0;
  for (let i = 0; i < 16; i += 1) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = 0x2d; // "-"
    let byte = entropy[offset + i]!;
    if (i === 6)
      byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // RFC 4122 variant
    text[at++] = HEX[byte >> 4]!;
    text[at++] = HEX[byte & 0x0f]!;
  }
  return text.toString("latin1", 0, 36);
}
