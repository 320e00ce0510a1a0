"""Plumbing shared by the generator scripts of tests/exec (gen_rnn.py,
gen_vision.py, gen_linalg.py, gen_signal.py, gen_control.py,
gen_sequence.py, gen_groupnorm.py): building a model, writing a case in the layout of ONNX's backend test data

    <root>/<case>/model.onnx
    <root>/<case>/test_data_set_N/{input,output}_K.pb

which tests/conformance's program runs, and running a model in ONNX Runtime
(tests/exec/ort_run.js) for the scripts that take it as their oracle.

The scripts differ in opset, ir_version, graph name and whether the .pb
tensors carry names; each passes its own, so the committed fixtures stay
byte for byte what they were.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
PRODUCER = "razorq-tests"
# The element types ort_run.js can exchange (its typed-array table).
ORT_TYPES = {"float32": np.float32, "int64": np.int64, "bool": np.bool_, "float64": np.float64,
             "float16": np.float16, "int8": np.int8, "uint8": np.uint8, "int32": np.int32, "int16": np.int16,
             "uint16": np.uint16}


def tensor_infos(pairs):
    """Graph inputs/outputs for (name, array) pairs, each declared with its
    array's element type and shape."""
    return [helper.make_tensor_value_info(n, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.asarray(a).dtype], np.shape(a))
            for n, a in pairs]


def make_model(nodes, inputs, outputs, initializers=(), *, name, opset, ir_version, producer_name=PRODUCER,
               check=True, full_check=False):
    """inputs/outputs: ValueInfoProtos; initializers: (name, array) pairs.
    The model is checked (full_check also runs shape inference) so a
    malformed case stops the script before anything is written; check=False
    for outputs declared without a shape, which onnx 1.12's checker rejects."""
    graph = helper.make_graph(nodes, name, inputs, outputs,
                              initializer=[numpy_helper.from_array(a, n) for n, a in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name=producer_name)
    model.ir_version = ir_version
    if check:
        onnx.checker.check_model(model, full_check=full_check)
    return model


def write_case_sets(root, case, model, data_sets, tensor_names=True):
    """data_sets: list of (inputs, outputs), each a list of (name, array)
    pairs in the model's input/output order; data set N goes to
    test_data_set_N. tensor_names=False writes the .pb tensors unnamed. A
    list of arrays is a sequence value, written as a SequenceProto."""
    case_dir = os.path.join(root, case)
    os.makedirs(case_dir)  # no exist_ok: two cases of one name are a script bug
    onnx.save(model, os.path.join(case_dir, "model.onnx"))
    for s, (inputs, outputs) in enumerate(data_sets):
        data_dir = os.path.join(case_dir, f"test_data_set_{s}")
        os.makedirs(data_dir)
        for kind, pairs in (("input", inputs), ("output", outputs)):
            for k, (n, a) in enumerate(pairs):
                if isinstance(a, list):
                    t = numpy_helper.from_list([np.asarray(x) for x in a], n if tensor_names else None)
                else:
                    t = numpy_helper.from_array(np.asarray(a), n if tensor_names else None)
                with open(os.path.join(data_dir, f"{kind}_{k}.pb"), "wb") as f:
                    f.write(t.SerializeToString())


def write_case(root, case, model, inputs, outputs, tensor_names=True):
    """One case with one data set; inputs/outputs: lists of (name, array)."""
    write_case_sets(root, case, model, [(inputs, outputs)], tensor_names)


def ort_run(model, feeds):
    """model's outputs in ONNX Runtime, in graph output order, as arrays.
    feeds: list of (name, array). Needs node and onnxruntime-node (found
    through ORT_NODE or NODE_PATH, see ort_run.js)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.onnx")
        onnx.save(model, path)
        req = {"model": path, "inputs": {
            n: {"type": str(a.dtype), "dims": list(a.shape), "data": base64.b64encode(a.tobytes()).decode()}
            for n, a in feeds}}
        res = subprocess.run(["node", os.path.join(HERE, "ort_run.js")], input=json.dumps(req).encode(),
                             capture_output=True, check=False)
    if res.returncode != 0:
        sys.exit("ort_run.js failed: " + res.stderr.decode())
    out = json.loads(res.stdout)
    result = []
    for o in model.graph.output:
        t = out[o.name]
        result.append(np.frombuffer(base64.b64decode(t["data"]), ORT_TYPES[t["type"]]).reshape(t["dims"]))
    return result


def regenerate(root, *generators):
    """Writes a case set afresh: the family folder above root
    (<family>/node) is emptied, each generator writes its cases under root,
    and the count is printed."""
    shutil.rmtree(os.path.dirname(root), ignore_errors=True)
    os.makedirs(root)
    for generate in generators:
        generate()
    print(len(os.listdir(root)), "cases in", root)
