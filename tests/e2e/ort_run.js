// SPDX-License-Identifier: Apache-2.0
// Runs an ONNX model in ONNX Runtime (npm onnxruntime-node) on a .npy input
// and writes its first output as a .npy file (or, given a directory, every
// output as DIR/<name>.npy): the independent runtime the end-to-end tests
// compare razorq's fake-quantized evaluation against.
// Usage: node ort_run.js MODEL.onnx INPUT.npy|NAME=X.npy,NAME=Y.npy... OUTPUT.npy|OUTPUT_DIR
// (one .npy feeds the first input; NAME=FILE pairs, comma-separated, feed inputs by name)
'use strict';
const fs = require('fs');
const path = require('path');

function loadOrt() {
  // Found in the project's node_modules (./setup.sh installs it there).
  const root = process.env.RAZORQ_SOURCE_ROOT || path.join(__dirname, '..', '..');
  return require(path.join(root, 'node_modules', 'onnxruntime-node'));
}

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (descr !== '<f4') throw new Error(`${file}: expected float32 (<f4), got ${descr}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order not supported`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const offset = start + headerLen;
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + buf.length));
  return { shape, data };
}

function writeNpy(file, shape, data) {
  const descr = data instanceof BigInt64Array ? '<i8' : '<f4';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const [modelPath, inputPath, outputPath] = process.argv.slice(2);
  if (!outputPath) {
    console.error('usage: node ort_run.js MODEL.onnx INPUT.npy|NAME=X.npy,... OUTPUT.npy|OUTPUT_DIR');
    process.exit(2);
  }
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    // No graph rewrites: run the QDQ nodes as written, as a deployment check.
    graphOptimizationLevel: 'disabled',
  });
  const feeds = {};
  const pairs = inputPath.includes('=') ? inputPath.split(',').map((p) => p.split('=')) : [[session.inputNames[0], inputPath]];
  for (const [name, file] of pairs) {
    const x = readNpy(file);
    feeds[name] = new ort.Tensor('float32', x.data, x.shape);
  }
  const results = await session.run(feeds);
  if (fs.existsSync(outputPath) && fs.statSync(outputPath).isDirectory()) {
    // A directory: every output, as DIR/<name>.npy (float32 or int64).
    for (const name of session.outputNames) writeNpy(path.join(outputPath, `${name}.npy`), results[name].dims, results[name].data);
    return;
  }
  const y = results[session.outputNames[0]];
  writeNpy(outputPath, y.dims, y.data);
}

main().catch((e) => {
  console.error(`ort_run: ${e.message}`);
  process.exit(1);
});
