/**
 * Binary sidecar for the users × items training history (seen items; item-item inputs): a small
 * header then the CSR arrays, little-endian, so 20M interactions load without parsing.
 */
import type { Csr } from "../data/csr.ts";

const MAGIC = 0x52435352; // "RCSR"
const HEADER_BYTES = 20;

export function encodeHistory(csr: Csr): Uint8Array {
  const nnz = csr.indptr[csr.nRows]!;
  const out = new Uint8Array(HEADER_BYTES + 4 * (csr.nRows + 1) + 8 * nnz);
  const view = new DataView(out.buffer);
  [MAGIC, 1, csr.nRows, csr.nCols, nnz].forEach((v, i) => view.setUint32(i * 4, v, true));
  let at = HEADER_BYTES;
  for (const arr of [csr.indptr, csr.indices.subarray(0, nnz), csr.values.subarray(0, nnz)]) {
    out.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), at);
    at += arr.byteLength;
  }
  return out;
}

export function decodeHistory(bytes: Uint8Array): Csr {
  if (bytes.byteLength < HEADER_BYTES) throw new Error("history file is truncated");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [magic, format, nRows, nCols, nnz] = [0, 1, 2, 3, 4].map((i) =>
    view.getUint32(i * 4, true),
  ) as number[];
  if (magic !== MAGIC || format !== 1) throw new Error("history file has an unknown header");
  const expected = HEADER_BYTES + 4 * (nRows! + 1) + 8 * nnz!;
  if (bytes.byteLength !== expected)
    throw new Error(`history file has ${bytes.byteLength} bytes, expected ${expected}`);
  // Copy into aligned buffers (the file buffer's offset may not be 4-byte aligned).
  const take = (from: number, count: number) => {
    const copy = new Uint8Array(count * 4);
    copy.set(bytes.subarray(from, from + count * 4));
    return copy.buffer;
  };
  const ptrAt = HEADER_BYTES;
  const idxAt = ptrAt + 4 * (nRows! + 1);
  const valAt = idxAt + 4 * nnz!;
  return {
    nRows: nRows!,
    nCols: nCols!,
    indptr: new Int32Array(take(ptrAt, nRows! + 1)),
    indices: new Int32Array(take(idxAt, nnz!)),
    values: new Float32Array(take(valAt, nnz!)),
  };
}
