#!/usr/bin/env node
// Golden outputs for tests/exec from ONNX Runtime (npm onnxruntime-node,
// installed with `npm install --ignore-scripts onnxruntime-node`; the CPU
// library ships inside the package).
//
//   node tests/exec/gen_golden.js DIGITS_TEST_X.npy
//
// Writes tests/exec/data/digits_x16.npy (the first 16 test images, float32
// [16,1,8,8]) and digits_{cnn,dw,mlp}_ort.npy (ONNX Runtime's logits for
// them, float32 [16,10]), from the models in tests/data/.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(process.env.ORT_NODE || 'onnxruntime-node');

const root = path.resolve(__dirname, '..', '..');
const out = path.join(__dirname, 'data');
const N = 16;

// NumPy .npy v1.0, little-endian float32, C order: enough for these files.
function readNpyF32(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(file + ': not .npy');
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True"))
    throw new Error(file + ': expected little-endian float32, C order');
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter(s => s.trim()).map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + hlen, buf.byteOffset + buf.length));
  return { shape, data };
}

function writeNpyF32(file, shape, data) {
  const shapeStr = '(' + shape.join(', ') + (shape.length === 1 ? ',)' : ')');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const x = readNpyF32(process.argv[2] || '/work/shared/data/digits_test_x.npy');
  const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const xs = x.data.slice(0, N * per);
  const shape = [N, ...x.shape.slice(1)];
  writeNpyF32(path.join(out, 'digits_x16.npy'), shape, xs);
  for (const name of ['cnn', 'dw', 'mlp']) {
    const opts = { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' };
    const s = await ort.InferenceSession.create(path.join(root, 'tests', 'data', `digits_${name}.onnx`), opts);
    const res = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', xs, shape) });
    const y = res[s.outputNames[0]];
    writeNpyF32(path.join(out, `digits_${name}_ort.npy`), y.dims, y.data);
    console.log(name, y.dims);
  }
}
main().catch(e => { console.error(e); process.exit(1); });
