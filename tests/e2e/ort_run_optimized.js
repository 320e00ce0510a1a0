// SPDX-License-Identifier: Apache-2.0
// ort_run.js with ONNX Runtime's graph optimizations on ('all'): QDQ groups
// are fused into QLinearConv / QGemm / ..., integer kernels with the int32
// bias, as a deployment runs them. Usage as ort_run.js, plus an optional
// fourth argument: where ONNX Runtime writes the optimized model, so a test
// can see which nodes were fused.
// Usage: node ort_run_optimized.js MODEL.onnx INPUT.npy OUTPUT.npy [OPTIMIZED.onnx]
'use strict';
const path = require('path');

const root = process.env.RAZORQ_SOURCE_ROOT || path.join(__dirname, '..', '..');
const ort = require(path.join(root, 'node_modules', 'onnxruntime-node'));
const optimizedPath = process.argv[5];
const create = ort.InferenceSession.create.bind(ort.InferenceSession);
ort.InferenceSession.create = (model, options) =>
  create(model, {
    ...options,
    graphOptimizationLevel: 'all',
    ...(optimizedPath ? { optimizedModelFilePath: optimizedPath } : {}),
  });
// ort_run.js loads the same (cached) module and runs with the options above.
require('./ort_run.js');
