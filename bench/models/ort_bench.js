// SPDX-License-Identifier: Apache-2.0
// Times ONNX Runtime (npm onnxruntime-node, CPU, one intra-op thread) on a
// model with a random float32 input, the way `razorq bench` times razorq:
// W untimed runs, then K timed session.run calls, one JSON line of results:
// wall time and the process's CPU time (all threads) per run, in ms.
// Usage: node ort_bench.js MODEL.onnx N,C,H,W ITERS WARMUP
'use strict';
const path = require('path');

function loadOrt() {
  const root = process.env.RAZORQ_SOURCE_ROOT || path.join(__dirname, '..', '..');
  return require(path.join(root, 'node_modules', 'onnxruntime-node'));
}

async function main() {
  const [modelPath, shapeText, itersText, warmupText] = process.argv.slice(2);
  const shape = shapeText ? shapeText.split(',').map(Number) : [];
  const iters = Number(itersText), warmup = Number(warmupText);
  if (!modelPath || shape.length === 0 || shape.some((d) => !(d > 0)) || !(iters > 0) || !(warmup >= 0)) {
    console.error('usage: node ort_bench.js MODEL.onnx N,C,H,W ITERS WARMUP');
    process.exit(2);
  }
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    // 'all' (the default) includes the NCHWc layout rewrite; ORT_OPT_LEVEL
    // (disabled, basic, extended) shows what the graph rewrites are worth.
    graphOptimizationLevel: process.env.ORT_OPT_LEVEL || 'all',
  });
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
  const wall = [], cpu = [];
  for (let k = 0; k < warmup + iters; k++) {
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    await session.run(feeds);
    const used = process.cpuUsage(cpuStart);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (k >= warmup) {
      wall.push(elapsed);
      cpu.push((used.user + used.system) / 1e3);
    }
  }
  const median = (ms) => {
    ms.sort((a, b) => a - b);
    return iters % 2 ? ms[(iters - 1) / 2] : (ms[iters / 2 - 1] + ms[iters / 2]) / 2;
  };
  const wallMedian = median(wall), cpuMedian = median(cpu);
  console.log(JSON.stringify({ runtime: 'onnxruntime-node ' + (ort.env.versions ? ort.env.versions.common : ''),
                               model: modelPath, shape, iters, warmup, min_ms: wall[0], median_ms: wallMedian,
                               cpu_min_ms: cpu[0], cpu_median_ms: cpuMedian }));
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
