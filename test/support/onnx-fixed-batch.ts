// Writes a copy of an ONNX model whose first input has a fixed batch of one: what exports such as
// SFace's look like. Only the declared shape changes (weights and graph stay), so the copy computes
// exactly what the original does, one face per run. Hand-written because the model is a protobuf
// message and no ONNX library is installed here; it walks only the fields on the path
// ModelProto.graph(7) → GraphProto.input(11) → ValueInfoProto.type(2) → TypeProto.tensor_type(1)
// → Tensor.shape(2) → TensorShapeProto.dim(1) and re-encodes their lengths.
import { readFile, writeFile } from 'node:fs/promises';

interface Field {
  field: number;
  wire: number;
  /** Payload: the bytes after the tag (after the length for length-delimited fields). */
  value: Buffer;
}

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[at++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, at];
    shift += 7n;
  }
}

function varint(value: bigint | number): Buffer {
  let v = BigInt(value);
  const bytes: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0n);
  return Buffer.from(bytes);
}

function decode(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const [tag, afterTag] = readVarint(buf, at);
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    let end: number;
    let start = afterTag;
    if (wire === 0) end = readVarint(buf, afterTag)[1];
    else if (wire === 1) end = afterTag + 8;
    else if (wire === 5) end = afterTag + 4;
    else if (wire === 2) {
      const [length, afterLength] = readVarint(buf, afterTag);
      start = afterLength;
      end = afterLength + Number(length);
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    fields.push({ field, wire, value: buf.subarray(start, end) });
    at = end;
  }
  return fields;
}

function encode(fields: Field[]): Buffer {
  return Buffer.concat(
    fields.flatMap(({ field, wire, value }) => [varint((field << 3) | wire), ...(wire === 2 ? [varint(value.length)] : []), value]),
  );
}

/** Replaces the payload of the first `field` of a message with `edit(payload)`. */
function editFirst(message: Buffer, field: number, edit: (payload: Buffer) => Buffer): Buffer {
  const fields = decode(message);
  const target = fields.find((f) => f.field === field && f.wire === 2);
  if (!target) throw new Error(`protobuf field ${field} not found`);
  target.value = edit(target.value);
  return encode(fields);
}

export async function writeFixedBatchCopy(source: string, destination: string): Promise<void> {
  const model = await readFile(source);
  const fixedDim = encode([{ field: 1, wire: 0, value: varint(1) }]); // Dimension.dim_value = 1
  const edited = editFirst(model, 7, (graph) =>
    editFirst(graph, 11, (input) => editFirst(input, 2, (type) => editFirst(type, 1, (tensor) => editFirst(tensor, 2, (shape) => editFirst(shape, 1, () => fixedDim))))),
  );
  await writeFile(destination, edited);
}
