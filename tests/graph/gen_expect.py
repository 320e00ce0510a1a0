#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the independent oracle the graph tests compare against.

Run from the source root with Debian's /usr/bin/python3 (python3-onnx,
python3-torch, numpy):  /usr/bin/python3 tests/graph/gen_expect.py

Outputs (committed, small):
  tests/graph/expect_models.json  what onnx's Python API says about each model
                                  (Constant nodes counted as initializers, which
                                  is how razorq's loader folds them), with
                                  onnx.shape_inference's intermediate shapes
  tests/data/bn_conv.onnx, bn_gemm.onnx, tests/graph/expect_bn.json
                                  tiny Conv+BN+Relu / Gemm+BN models with an input, the
                                  PyTorch output, and torch's fused weights
  tests/data/const_identity.onnx  Constant + Identity folding fixture
  tests/data/ext/model.onnx (+ weights.bin)       external-data model
  tests/data/ext_escape.onnx      external data pointing outside the folder
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto
from torch.nn.utils.fusion import fuse_conv_bn_weights, fuse_linear_bn_weights

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")
OUT = os.path.join(ROOT, "tests", "graph")


def dims_of(value_info):
    t = value_info.type.tensor_type
    return [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]


def describe(path):
    m = onnx.load(path)
    g = m.graph
    inits = {t.name: list(t.dims) for t in g.initializer}
    params = sum(int(np.prod(t.dims)) for t in g.initializer)
    ops = []
    for n in g.node:
        if n.op_type == "Constant":
            arr = numpy_helper.to_array(n.attribute[0].t) if n.attribute[0].name == "value" else None
            assert arr is not None, "fixture Constants use the 'value' attribute"
            inits[n.output[0]] = list(arr.shape)
            params += int(arr.size)
        else:
            ops.append(n.op_type)
    init_names = {t.name for t in g.initializer}
    inferred = onnx.shape_inference.infer_shapes(m).graph.value_info
    return {
        "value_shapes": {vi.name: {"elem_type": vi.type.tensor_type.elem_type, "dims": dims_of(vi)}
                         for vi in inferred if vi.name not in inits},
        "opset": [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0],
        "node_count": len(ops),
        "ops": ops,
        "initializers": inits,
        "parameter_count": params,
        "inputs": [{"name": i.name, "elem_type": i.type.tensor_type.elem_type, "dims": dims_of(i)}
                   for i in g.input if i.name not in init_names],
        "outputs": [{"name": o.name, "elem_type": o.type.tensor_type.elem_type, "dims": dims_of(o)}
                    for o in g.output],
    }


def f32list(a):
    if isinstance(a, torch.Tensor):
        a = a.detach().numpy()
    return [float(x) for x in np.asarray(a, dtype=np.float32).ravel()]


def bn_fixtures():
    torch.manual_seed(0)
    out = {}
    # Conv(3->4, 3x3, pad 1, groups 1) + BN(eps 1e-3) + Relu
    cin, cout, eps = 3, 4, 1e-3
    conv = torch.nn.Conv2d(cin, cout, 3, padding=1, bias=True)
    bn = torch.nn.BatchNorm2d(cout, eps=eps)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
        bn.running_mean.uniform_(-0.3, 0.3)
        bn.running_var.uniform_(0.5, 2.0)
    conv.eval(); bn.eval()
    x = torch.rand(2, cin, 5, 5)
    with torch.no_grad():
        y = torch.relu(bn(conv(x)))
        fw, fb = fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean, bn.running_var,
                                      bn.eps, bn.weight, bn.bias)
    T = lambda name, t: numpy_helper.from_array(t.detach().numpy().astype(np.float32), name)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "W", "B"], ["c"], name="conv", pads=[1, 1, 1, 1],
                          kernel_shape=[3, 3]),
         helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["n"], name="bn",
                          epsilon=eps),
         helper.make_node("Relu", ["n"], ["y"], name="relu")],
        "bn_conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", cin, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", cout, 5, 5])],
        [T("W", conv.weight), T("B", conv.bias), T("g", bn.weight), T("b", bn.bias),
         T("m", bn.running_mean), T("v", bn.running_var)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(DATA, "bn_conv.onnx"))
    out["conv"] = {"x_shape": list(x.shape), "x": f32list(x), "y_shape": list(y.shape), "y": f32list(y),
                   "fused_w": f32list(fw), "fused_b": f32list(fb)}

    # Gemm(transB=1, no bias) + BN over features: 6 -> 5
    fin, fout = 6, 5
    lin = torch.nn.Linear(fin, fout, bias=False)
    bn1 = torch.nn.BatchNorm1d(fout)
    with torch.no_grad():
        bn1.weight.uniform_(0.5, 1.5)
        bn1.bias.uniform_(-0.5, 0.5)
        bn1.running_mean.uniform_(-0.3, 0.3)
        bn1.running_var.uniform_(0.5, 2.0)
    lin.eval(); bn1.eval()
    x1 = torch.rand(3, fin)
    with torch.no_grad():
        y1 = bn1(lin(x1))
        lw, lb = fuse_linear_bn_weights(lin.weight, torch.zeros(fout), bn1.running_mean,
                                        bn1.running_var, bn1.eps, bn1.weight, bn1.bias)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W"], ["h"], name="fc", transB=1),
         helper.make_node("BatchNormalization", ["h", "g", "b", "m", "v"], ["y"], name="bn")],
        "bn_gemm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", fin])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", fout])],
        [T("W", lin.weight), T("g", bn1.weight), T("b", bn1.bias), T("m", bn1.running_mean),
         T("v", bn1.running_var)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(DATA, "bn_gemm.onnx"))
    out["gemm"] = {"x_shape": list(x1.shape), "x": f32list(x1), "y_shape": list(y1.shape), "y": f32list(y1),
                   "fused_w": f32list(lw), "fused_b": f32list(lb)}
    return out


def misc_fixtures():
    # x -> Add(x, Constant c) -> Identity -> y
    c = np.array([1.5, -2.0, 0.25], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("Constant", [], ["c"], name="const", value=numpy_helper.from_array(c)),
         helper.make_node("Add", ["x", "c"], ["s"], name="add"),
         helper.make_node("Identity", ["s"], ["y"], name="id")],
        "const_identity",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(DATA, "const_identity.onnx"))

    # external data: one initializer stored in ext/weights.bin
    os.makedirs(os.path.join(DATA, "ext"), exist_ok=True)
    w = np.arange(24, dtype=np.float32).reshape(4, 6) / 7.0
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "ext",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 6])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    if os.path.exists(os.path.join(DATA, "ext", "weights.bin")):
        os.remove(os.path.join(DATA, "ext", "weights.bin"))  # onnx appends to an existing file
    onnx.save_model(model, os.path.join(DATA, "ext", "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    onnx.checker.check_model(os.path.join(DATA, "ext", "model.onnx"))
    # the same model pointing outside its folder: must be refused
    model = onnx.load(os.path.join(DATA, "ext", "model.onnx"), load_external_data=False)
    for e in model.graph.initializer[0].external_data:
        if e.key == "location":
            e.value = "../ext/weights.bin"
    onnx.save(model, os.path.join(DATA, "ext_escape.onnx"))
    return {"ext_w": f32list(w), "ext_w_shape": list(w.shape), "const_c": f32list(c)}


def main():
    models = {name: describe(os.path.join(DATA, name + ".onnx"))
              for name in ("digits_cnn", "digits_mlp", "digits_dw")}
    with open(os.path.join(OUT, "expect_models.json"), "w") as f:
        json.dump(models, f, indent=1, sort_keys=True)
    bn = bn_fixtures()
    bn.update(misc_fixtures())
    with open(os.path.join(OUT, "expect_bn.json"), "w") as f:
        json.dump(bn, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
