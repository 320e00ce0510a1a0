#!/usr/bin/python3
"""QuantizeLinear/DequantizeLinear golden data from PyTorch 1.13 for tests/exec.

    /usr/bin/python3 tests/exec/gen_qdq.py

Writes tests/exec/data/qdq.onnx (opset 13): input x [2,3,4] float32 ->
  q_t  = QuantizeLinear(x, 0.25, zp 3 uint8)            (per tensor)
  dq_t = DequantizeLinear(q_t, 0.25, 3)
  q_c  = QuantizeLinear(x, scales[3], zps[3] int8, axis=1)  (per channel)
  dq_c = DequantizeLinear(q_c, scales, zps, axis=1)
and qdq_x.npy plus the expected q_t/dq_t/q_c/dq_c as .npy, computed with
torch.quantize_per_tensor / torch.quantize_per_channel (int_repr and
dequantize). Scales are powers of two so x * (1/scale), which PyTorch
computes, equals x / scale, which ONNX specifies: the values include exact
ties (round half to even) and values far outside the range (saturation).
"""
import os
import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
ties = np.array([0.125, 0.375, -0.125, -0.375, 0.625, 1.125, -1.375, 2.5], np.float32)
x = np.concatenate([ties, np.array([100.0, -100.0, 63.9, -40.0], np.float32),
                    np.linspace(-3, 3, 12).astype(np.float32)]).reshape(2, 3, 4)

scale_t, zp_t = 0.25, 3
scales_c = np.array([0.5, 0.25, 0.125], np.float32)
zps_c = np.array([0, -5, 7], np.int8)

xt = torch.from_numpy(x)
qt = torch.quantize_per_tensor(xt, scale_t, zp_t, torch.quint8)
qc = torch.quantize_per_channel(xt, torch.from_numpy(scales_c).double(), torch.from_numpy(zps_c).long(), 1, torch.qint8)
expect = {
    "q_t": qt.int_repr().numpy(), "dq_t": qt.dequantize().numpy(),
    "q_c": qc.int_repr().numpy(), "dq_c": qc.dequantize().numpy(),
}

inits = [
    numpy_helper.from_array(np.array(scale_t, np.float32), "s_t"),
    numpy_helper.from_array(np.array(zp_t, np.uint8), "z_t"),
    numpy_helper.from_array(scales_c, "s_c"),
    numpy_helper.from_array(zps_c, "z_c"),
]
nodes = [
    helper.make_node("QuantizeLinear", ["x", "s_t", "z_t"], ["q_t"]),
    helper.make_node("DequantizeLinear", ["q_t", "s_t", "z_t"], ["dq_t"]),
    helper.make_node("QuantizeLinear", ["x", "s_c", "z_c"], ["q_c"], axis=1),
    helper.make_node("DequantizeLinear", ["q_c", "s_c", "z_c"], ["dq_c"], axis=1),
]
graph = helper.make_graph(
    nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4])],
    [helper.make_tensor_value_info("q_t", TensorProto.UINT8, ["N", 3, 4]),
     helper.make_tensor_value_info("dq_t", TensorProto.FLOAT, ["N", 3, 4]),
     helper.make_tensor_value_info("q_c", TensorProto.INT8, ["N", 3, 4]),
     helper.make_tensor_value_info("dq_c", TensorProto.FLOAT, ["N", 3, 4])],
    inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="razorq-tests")
model.ir_version = 7
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "qdq.onnx"))
np.save(os.path.join(out, "qdq_x.npy"), x)
for k, v in expect.items():
    np.save(os.path.join(out, f"qdq_{k}.npy"), v)
print({k: v.ravel()[:8] for k, v in expect.items()})
