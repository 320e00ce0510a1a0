#!/usr/bin/env node
// Runs one ONNX model in ONNX Runtime (npm onnxruntime-node, installed with
// `npm install --ignore-scripts onnxruntime-node`) for the generator scripts
// of tests/exec (case_writer.ort_run: gen_vision.py, gen_control.py,
// gen_groupnorm.py): reads
//   {"model": PATH, "inputs": {NAME: {"type": TYPE, "dims": [...], "data": BASE64}}}
// on stdin and writes {NAME: {"type", "dims", "data"}} for every output on
// stdout; data is the tensor's little-endian bytes. TYPE is a key of
// `arrays` below (float16 travels as its raw uint16 bits).
'use strict';
const fs = require('fs');
const ort = require(process.env.ORT_NODE || 'onnxruntime-node');

const arrays = { float32: Float32Array, int64: BigInt64Array, bool: Uint8Array, float64: Float64Array,
                 float16: Uint16Array, int8: Int8Array, uint8: Uint8Array, int32: Int32Array,
                 int16: Int16Array, uint16: Uint16Array };

async function main() {
  const req = JSON.parse(fs.readFileSync(0, 'utf8'));
  const feeds = {};
  for (const [name, t] of Object.entries(req.inputs)) {
    const bytes = Buffer.from(t.data, 'base64');
    const Arr = arrays[t.type];
    const copy = new Uint8Array(bytes.length); // aligned storage for the typed view
    copy.set(bytes);
    feeds[name] = new ort.Tensor(t.type, new Arr(copy.buffer, 0, bytes.length / Arr.BYTES_PER_ELEMENT), t.dims);
  }
  const opts = { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' };
  const session = await ort.InferenceSession.create(req.model, opts);
  const res = await session.run(feeds);
  const out = {};
  for (const name of session.outputNames) {
    const y = res[name];
    out[name] = { type: y.type, dims: y.dims,
                  data: Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength).toString('base64') };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch(e => { console.error(e); process.exit(1); });
