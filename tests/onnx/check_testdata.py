#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Loads every model and TensorProto of Debian's libonnx-testdata with razorq
(via onnx_dump) and compares with onnx's Python API, the independent oracle:

- a model razorq loads must have onnx's node list (Constant nodes counted as
  initializers), initializer count and interface sizes;
- a model razorq refuses must be one onnx's API shows to use something razorq
  documents as unsupported (opset outside 1..21, GRAPHS/SPARSE_TENSOR(S)/
  TENSORS/TYPE_PROTOS attributes, string or complex tensors, inputs, outputs
  or type attributes that are not tensors, sequences of tensors or optionals
  of those, rank > 8, anywhere in the graph or its subgraphs);
  anything else razorq refuses is a failure, and so is loading one of those;
- a tensor file must give numpy_helper.to_array's dtype, shape and bytes;
- every shape razorq infers (rq__pass_infer_shapes) must agree with
  onnx.shape_inference wherever both know a dimension;
- every model razorq loads, saved back by razorq, must pass onnx.checker (when
  the original does) and equal the original for onnx's API: nodes with their
  edges and attribute values, initializers (Constant nodes folded) bit for
  bit, and the interface's names, types and dims; subgraphs (If/Loop/Scan
  bodies) compared the same way, recursively.

Usage: check_testdata.py ONNX_DUMP [DATA_ROOT]. Exit 77 (skip) when the data or
the onnx module is missing.
"""
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper, TensorProto, AttributeProto
except ImportError:
    print("python3-onnx not available: skipping")
    sys.exit(77)

SUPPORTED = {TensorProto.FLOAT, TensorProto.UINT8, TensorProto.INT8, TensorProto.UINT16,
             TensorProto.INT16, TensorProto.INT32, TensorProto.INT64, TensorProto.BOOL,
             TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.UINT32, TensorProto.UINT64,
             TensorProto.BFLOAT16}
BAD_ATTRS = {AttributeProto.GRAPHS, AttributeProto.SPARSE_TENSOR,
             AttributeProto.SPARSE_TENSORS, AttributeProto.TENSORS, AttributeProto.TYPE_PROTOS}
MAX_RANK = 8


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def tensor_problem(t):
    if t.data_type not in SUPPORTED:
        return "element type %d" % t.data_type
    if len(t.dims) > MAX_RANK:
        return "rank"
    return None


def innermost_tensor(tp):
    """The tensor type inside the kinds razorq holds (a tensor, a sequence of
    tensors, an optional tensor or sequence of tensors), or None."""
    if tp.WhichOneof("value") == "optional_type":
        tp = tp.optional_type.elem_type
    if tp.WhichOneof("value") == "sequence_type":
        tp = tp.sequence_type.elem_type
    return tp.tensor_type if tp.WhichOneof("value") == "tensor_type" else None


def type_problem(vi):
    if not vi.HasField("type"):  # undeclared (usual in subgraphs): nothing to refuse
        return None
    tt = innermost_tensor(vi.type)
    if tt is None:
        return "non-tensor value " + vi.name
    if tt.elem_type and tt.elem_type not in SUPPORTED:
        return "value %s of element type %d" % (vi.name, tt.elem_type)
    if tt.HasField("shape") and len(tt.shape.dim) > MAX_RANK:
        return "rank"
    return None


def expected_refusal(m):
    """Why razorq should refuse this model, or None."""
    versions = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
    if not versions or not 1 <= versions[0] <= 21:
        return "opset %s" % versions
    return graph_refusal(m.graph)


def graph_refusal(g):
    """Why razorq should refuse graph g (the main graph or a subgraph), or None."""
    if g.sparse_initializer:
        return "sparse initializer"
    for t in g.initializer:
        if tensor_problem(t):
            return tensor_problem(t)
    inits = {t.name for t in g.initializer}
    for vi in list(g.input) + list(g.output):
        if vi.name not in inits and type_problem(vi):
            return type_problem(vi)
    for n in g.node:
        for a in n.attribute:
            if a.type in BAD_ATTRS or a.ref_attr_name:
                return "attribute type %d" % a.type
            if a.type == AttributeProto.TYPE_PROTO and innermost_tensor(a.tp) is None:
                return "type attribute of a kind razorq does not hold"
            if a.type == AttributeProto.TENSOR and tensor_problem(a.t):
                return tensor_problem(a.t)
            if a.type == AttributeProto.GRAPH and graph_refusal(a.g):
                return graph_refusal(a.g)
        if n.op_type == "Constant" and n.domain in ("", "ai.onnx"):
            if any(a.name in ("value_string", "value_strings") for a in n.attribute):
                return "string constant"
    return None


def describe(m):
    g = m.graph
    ops = [n.op_type for n in g.node
           if not (n.op_type == "Constant" and n.domain in ("", "ai.onnx"))]
    n_const = len(g.node) - len(ops)
    inits = {t.name for t in g.initializer}
    n_inputs = len([i for i in g.input if i.name not in inits])
    return (len(ops), len(g.initializer) + n_const, n_inputs, len(g.output), ",".join(ops) or "-")


def tensor_expect(path):
    t = TensorProto()
    try:
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
    except Exception:  # not a TensorProto at all
        return None
    if t.data_type not in SUPPORTED or len(t.dims) > MAX_RANK:
        return None
    if t.data_type == TensorProto.BFLOAT16:  # to_array widens bfloat16 to float32
        data = t.raw_data if t.HasField("raw_data") else \
            np.array(t.int32_data, dtype=np.uint32).astype(np.uint16).tobytes()
    else:
        try:
            data = np.ascontiguousarray(numpy_helper.to_array(t)).tobytes()
        except ValueError:  # data does not match dims: not a well-formed tensor
            return None
    dims = ",".join(str(d) for d in t.dims) or "-"
    return "%d %d %s %016x" % (t.data_type, len(t.dims), dims, fnv1a(data))


def attr_values(node):
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, TensorProto):
            v = numpy_helper.to_array(v)
            v = (str(v.dtype), v.shape, v.tobytes())
        elif isinstance(v, list):
            v = [x for x in v]
        elif isinstance(v, onnx.GraphProto):
            v = ("graph", v)  # compared structurally by compare_graph
        out[a.name] = v
    return out


def constant_array(node):
    a = node.attribute[0]
    v = helper.get_attribute_value(a)
    if a.name == "value":
        return numpy_helper.to_array(v)
    if a.name == "value_float":
        return np.array(v, dtype=np.float32)
    if a.name == "value_floats":
        return np.array(v, dtype=np.float32)
    if a.name == "value_int":
        return np.array(v, dtype=np.int64)
    return np.array(v, dtype=np.int64)  # value_ints


def interface(vis, skip=()):
    out = []
    for vi in vis:
        if vi.name in skip:
            continue
        kinds = []  # the wrapping kinds, outermost first
        tp = vi.type
        while tp.WhichOneof("value") in ("optional_type", "sequence_type"):
            kinds.append(tp.WhichOneof("value"))
            tp = getattr(tp, tp.WhichOneof("value")).elem_type
        tt = tp.tensor_type
        dims = None if not tt.HasField("shape") else \
            [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tt.shape.dim]
        out.append((vi.name, kinds, tt.elem_type, dims))
    return out


def compare_saved(orig_path, copy_path):
    """Differences between a model and razorq's copy of it, as a string, or None."""
    a = onnx.load(orig_path, load_external_data=False)
    b = onnx.load(copy_path)
    try:
        onnx.checker.check_model(a)
        original_valid = True
    except Exception:
        original_valid = False
    if original_valid:
        try:
            onnx.checker.check_model(b)
        except Exception as e:
            return "checker: %s" % str(e).splitlines()[0]
    return compare_graph(a.graph, b.graph)


def compare_graph(ga, gb):
    """Differences between graph ga and razorq's copy gb (recursing into
    subgraphs), as a string, or None."""
    class G:  # the shape compare_saved's body expects
        pass
    a, b = G(), G()
    a.graph, b.graph = ga, gb
    is_const = lambda n: n.op_type == "Constant" and n.domain in ("", "ai.onnx")
    na = [(n.op_type, n.domain, list(n.input), list(n.output), attr_values(n))
          for n in a.graph.node if not is_const(n)]
    nb = [(n.op_type, n.domain, list(n.input), list(n.output), attr_values(n)) for n in b.graph.node]
    if len(na) != len(nb):
        return "node count %d vs %d" % (len(na), len(nb))
    for x, y in zip(na, nb):
        if x[:4] != y[:4] or set(x[4]) != set(y[4]):
            return "node %s vs %s" % (x[:4], y[:4])
        for k in x[4]:
            if isinstance(x[4][k], tuple) and x[4][k][:1] == ("graph",):
                if not isinstance(y[4][k], tuple) or y[4][k][:1] != ("graph",):
                    return "node %s attribute %s is no longer a graph" % (x[3], k)
                why = compare_graph(x[4][k][1], y[4][k][1])
                if why is not None:
                    return "node %s attribute %s: %s" % (x[3], k, why)
            elif repr(x[4][k]) != repr(y[4][k]):
                return "node %s attribute %s" % (x[3], k)
    ia = {t.name: numpy_helper.to_array(t) for t in a.graph.initializer}
    ia.update({n.output[0]: constant_array(n) for n in a.graph.node if is_const(n)})
    ib = {t.name: numpy_helper.to_array(t) for t in b.graph.initializer}
    if set(ia) != set(ib):
        return "initializer names differ"
    for k in ia:
        x, y = np.asarray(ia[k]), np.asarray(ib[k])
        if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
            return "initializer %s differs" % k
    inits = {t.name for t in a.graph.initializer}
    if interface(a.graph.input, inits) != interface(b.graph.input, set(ib)) or \
            interface(a.graph.output) != interface(b.graph.output):
        return "interface differs"
    return None


def main():
    dump = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/libonnx-testdata/data"
    if not os.path.isdir(root):
        print("%s missing: skipping" % root)
        return 77
    paths = []
    for d, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            if f.endswith(".onnx") or f.endswith(".pb"):
                paths.append(os.path.join(d, f))
    save_dir = tempfile.mkdtemp(prefix="rq_saved_")
    run = subprocess.run([dump], input="\n".join(paths) + "\n", capture_output=True, text=True,
                         env=dict(os.environ, RQ_DUMP_SAVE_DIR=save_dir))
    if run.returncode != 0:
        print("onnx_dump failed (rc %d): %s" % (run.returncode, run.stderr))
        return 1
    failures = 0
    counts = {"MODEL OK": 0, "MODEL refused": 0, "TENSOR OK": 0, "TENSOR refused": 0,
              "shapes compared": 0, "dims compared": 0, "saved copies equal": 0}
    inferred = {}  # path -> {value name: (elem_type, [dims or None])} from onnx
    for line in run.stdout.splitlines():
        if line.startswith("SAVED "):
            _, path, copy = line.split(" ", 2)
            why = compare_saved(path, copy)
            counts["saved copies equal"] += 1
            if why is not None:
                failures += 1
                print("FAIL %s: razorq's saved copy: %s" % (path, why))
            os.remove(copy)
            continue
        if line.startswith("VALUE "):
            _, path, dtype, dims, name = line.split(" ", 4)
            if path not in inferred:
                try:
                    im = onnx.shape_inference.infer_shapes(onnx.load(path, load_external_data=False))
                except Exception:
                    im = None
                table = {}
                if im is not None:
                    for vi in list(im.graph.value_info) + list(im.graph.output):
                        tt = vi.type.tensor_type
                        if vi.type.WhichOneof("value") == "tensor_type" and tt.HasField("shape"):
                            table[vi.name] = (tt.elem_type, [d.dim_value if d.HasField("dim_value")
                                                             else None for d in tt.shape.dim])
                inferred[path] = table
            want = inferred[path].get(name)
            if want is None:
                continue
            got = [] if dims == "-" else [int(d) for d in dims.split(",")]
            ok = len(got) == len(want[1]) and (int(dtype) == 0 or want[0] == 0 or int(dtype) == want[0])
            for a, b in zip(got, want[1]):
                if a >= 0 and b is not None:
                    ok = ok and a == b
                    counts["dims compared"] += 1
            counts["shapes compared"] += 1
            if not ok:
                failures += 1
                print("FAIL %s: value %s inferred %s %s, onnx %s" % (path, name, dtype, got, want))
            continue
        kind, path, status, rest = line.split(" ", 3)
        if kind == "MODEL":
            m = onnx.load(path, load_external_data=False)
            why = expected_refusal(m)
            if status == "OK":
                got = rest.split(" ")
                want = [str(x) for x in describe(m)]
                if why is not None or got != want:
                    failures += 1
                    print("FAIL %s: razorq %s, onnx %s (expected refusal: %s)" % (path, got, want, why))
                counts["MODEL OK"] += 1
            else:
                if why is None:
                    failures += 1
                    print("FAIL %s: refused (%s) but onnx shows nothing unsupported" % (path, rest))
                counts["MODEL refused"] += 1
        else:
            want = tensor_expect(path)
            if status == "OK":
                if rest != want:
                    failures += 1
                    print("FAIL %s: razorq '%s', onnx '%s'" % (path, rest, want))
                counts["TENSOR OK"] += 1
            else:
                if want is not None:
                    failures += 1
                    print("FAIL %s: refused (%s) but onnx reads '%s'" % (path, rest, want))
                counts["TENSOR refused"] += 1
    shutil.rmtree(save_dir, ignore_errors=True)
    print(", ".join("%s: %d" % kv for kv in counts.items()), "- %d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
