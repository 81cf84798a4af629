/** Compressed sparse rows: row r holds indices[indptr[r]..indptr[r+1]) sorted ascending. */
export interface Csr {
  nRows: number;
  nCols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export function rowLength(matrix: Csr, row: number): number {
  return matrix.indptr[row + 1]! - matrix.indptr[row]!;
}

/** Transpose by counting sort; rows of the result come out with sorted indices. */
export function transposeCsr(matrix: Csr): Csr {
  const { nRows, nCols, indptr, indices, values } = matrix;
  const nnz = indptr[nRows]!;
  const outPtr = new Int32Array(nCols + 1);
  for (let n = 0; n < nnz; n++) outPtr[indices[n]! + 1]!++;
  for (let c = 0; c < nCols; c++) outPtr[c + 1]! += outPtr[c]!;
  const cursor = outPtr.slice(0, nCols);
  const outIdx = new Int32Array(nnz);
  const outVal = new Float32Array(nnz);
  for (let r = 0; r < nRows; r++) {
    for (let n = indptr[r]!; n < indptr[r + 1]!; n++) {
      const at = cursor[indices[n]!]!++;
      outIdx[at] = r;
      outVal[at] = values[n]!;
    }
  }
  return { nRows: nCols, nCols: nRows, indptr: outPtr, indices: outIdx, values: outVal };
}

/** Stable counting sort of `order` (positions) by `key[position]` in [0, nKeys). */
export function sortByKey(order: Int32Array, key: Int32Array, nKeys: number): Int32Array {
  const counts = new Int32Array(nKeys + 1);
  for (let n = 0; n < order.length; n++) counts[key[order[n]!]! + 1]!++;
  for (let k = 0; k < nKeys; k++) counts[k + 1]! += counts[k]!;
  const out = new Int32Array(order.length);
  for (let n = 0; n < order.length; n++) {
    const position = order[n]!;
    out[counts[key[position]!]!++] = position;
  }
  return out;
}
