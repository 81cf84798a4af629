/**
 * Thin helpers over the ONNX protobuf classes (onnx-proto), so each model's graph reads as a list of
 * operators. Tensors go in `rawData` (little-endian bytes): far faster to encode than repeated
 * float fields for million-element initializers.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** IR 8 / opset 17: ScatterElements with reduction "add" (opset 16+) and TopK with index tie-break. */
export const IR_VERSION = 8;
export const OPSET = 17;

export const DType = {
  float: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
} as const;
export type DTypeName = keyof typeof DType;

export interface TensorSpec {
  name: string;
  type: DTypeName;
  /** a number for a fixed dimension, a string for a symbolic one (batch, k, …) */
  shape: (number | string)[];
}

type TypedArray = Float32Array | Int32Array | BigInt64Array;

function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function tensor(name: string, dims: number[], data: TypedArray): TensorProto {
  const dataType =
    data instanceof Float32Array
      ? DType.float
      : data instanceof Int32Array
        ? DType.int32
        : DType.int64;
  return { name, dims, dataType, rawData: bytesOf(data) };
}

export function int64s(name: string, values: number[]): TensorProto {
  return tensor(name, [values.length], BigInt64Array.from(values.map(BigInt)));
}

export function valueInfo(spec: TensorSpec): ValueInfoProto {
  return {
    name: spec.name,
    type: {
      tensorType: {
        elemType: DType[spec.type],
        shape: {
          dim: spec.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

type GraphProto = onnxProto.onnx.IGraphProto;
type AttrValue = number | string | TensorProto | { subgraph: GraphProto };

function attribute(name: string, value: AttrValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === "number") return { name, type: T.INT, i: value };
  if (typeof value === "string")
    return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if ("subgraph" in value) return { name, type: T.GRAPH, g: value.subgraph };
  return { name, type: T.TENSOR, t: value };
}

/**
 * A branch of an `If` node: its nodes may read any value of the enclosing graph (inputs,
 * initializers, earlier nodes' outputs); it has no inputs of its own.
 */
export function subgraph(
  name: string,
  nodes: NodeProto[],
  outputs: TensorSpec[],
): { subgraph: GraphProto } {
  return { subgraph: { name, node: nodes, output: outputs.map(valueInfo) } };
}

export function node(
  opType: string,
  input: string[],
  output: string[],
  attrs: Record<string, AttrValue> = {},
): NodeProto {
  return {
    opType,
    input,
    output,
    name: output[0],
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
  };
}

export interface GraphParts {
  name: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  initializers: TensorProto[];
  nodes: NodeProto[];
  /** free-form key/value pairs stored in the model (kind, sizes), for humans inspecting the file */
  metadata?: Record<string, string>;
}

export function encodeModel(parts: GraphParts): Uint8Array {
  const model = onnx.ModelProto.fromObject({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "reco-ml",
    producerVersion: "1",
    metadataProps: Object.entries(parts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: parts.name,
      input: parts.inputs.map(valueInfo),
      output: parts.outputs.map(valueInfo),
      initializer: parts.initializers,
      node: parts.nodes,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Reads one float initializer back from an encoded model (fold-in needs the item factors). */
export function readFloatInitializer(
  modelBytes: Uint8Array,
  name: string,
): { dims: number[]; data: Float32Array } {
  const model = onnx.ModelProto.decode(modelBytes);
  const init = model.graph?.initializer?.find((t) => t.name === name);
  if (!init || init.dataType !== DType.float || !init.rawData) {
    throw new Error(`model has no float initializer ${JSON.stringify(name)}`);
  }
  const raw = init.rawData;
  // Copy: the decoded buffer view may not be 4-byte aligned.
  const data = new Float32Array(raw.byteLength / 4);
  new Uint8Array(data.buffer).set(raw);
  return { dims: (init.dims ?? []).map(Number), data };
}
