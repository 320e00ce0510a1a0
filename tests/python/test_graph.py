# SPDX-License-Identifier: Apache-2.0
"""razorq.Graph: inspection against the `onnx` package's view of the same
file, Graph.run against ONNX Runtime (npm onnxruntime-node, through
tests/e2e/ort_run.js), and the edge hook (in-place edits, errors raised in it)."""
import collections
import os
import shutil
import subprocess

import numpy as np
import pytest

import razorq


@pytest.fixture
def onnx():
    """The `onnx` package, the oracle of the inspection tests (skipped without it)."""
    module = pytest.importorskip("onnx")
    pytest.importorskip("onnx.numpy_helper")
    return module


SOURCE = os.environ["RAZORQ_SOURCE_ROOT"]
DATA = os.path.join(SOURCE, "tests", "data")
MODELS = ["digits_mlp", "digits_cnn", "digits_dw"]
TEST_X = np.load(os.path.join(DATA, "digits_test_x.npy"))


def model_path(name):
    return os.path.join(DATA, name + ".onnx")


def onnx_shape(value_info):
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    return tuple(d.dim_param if d.HasField("dim_param") else d.dim_value if d.HasField("dim_value") else None
                 for d in t.shape.dim)


def has_ort():
    return shutil.which("node") and os.path.isdir(os.path.join(SOURCE, "node_modules", "onnxruntime-node"))


def ort_first_output(model, x, tmp_path):
    np.save(tmp_path / "x.npy", x)
    done = subprocess.run(["node", os.path.join(SOURCE, "tests", "e2e", "ort_run.js"), model, str(tmp_path / "x.npy"),
                           str(tmp_path / "y.npy")], capture_output=True, text=True,
                          env={**os.environ, "RAZORQ_SOURCE_ROOT": SOURCE})
    assert done.returncode == 0, done.stderr
    return np.load(tmp_path / "y.npy")


@pytest.mark.parametrize("name", MODELS)
def test_node_edges_and_initializers_agree_with_the_onnx_package(name, onnx):
    proto = onnx.load(model_path(name))
    g = razorq.Graph.load(model_path(name))
    # Constant nodes become initializers; the rest keep their edges (by name).
    by_name = {n.name: n for n in proto.graph.node if n.op_type != "Constant"}
    for i, node in enumerate(g.nodes):
        inputs, outputs = g.node_edges(i)
        assert (inputs, outputs) == (list(by_name[node.name].input), list(by_name[node.name].output))
    for t in proto.graph.initializer:
        expected = onnx.numpy_helper.to_array(t)
        got = g.initializer(t.name)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(razorq.NotFoundError, match="no initializer named 'input'"):
        g.initializer("input")
    with pytest.raises(razorq.InvalidArgumentError):
        g.node_edges(len(g.nodes))


@pytest.mark.parametrize("name", MODELS)
def test_inspection_agrees_with_the_onnx_package(name, onnx):
    proto = onnx.load(model_path(name))
    g = razorq.Graph.load(model_path(name))
    initializers = {i.name for i in proto.graph.initializer}
    declared = [i for i in proto.graph.input if i.name not in initializers]
    assert [(v.name, v.onnx_type, v.shape) for v in g.inputs] == \
        [(i.name, i.type.tensor_type.elem_type, onnx_shape(i)) for i in declared]
    assert [(v.name, v.onnx_type, v.shape) for v in g.outputs] == \
        [(o.name, o.type.tensor_type.elem_type, onnx_shape(o)) for o in proto.graph.output]
    assert g.inputs[0].type_name == "FLOAT" and g.inputs[0].shape[0] == "N"
    # Constant nodes become initializers.
    ops = collections.Counter(n.op_type for n in proto.graph.node if n.op_type != "Constant")
    assert g.ops == dict(ops)
    assert list(g.ops) == list(dict.fromkeys(n.op_type for n in g.nodes))
    assert sorted(n.name for n in g.nodes) == sorted(n.name for n in proto.graph.node if n.op_type != "Constant")
    constants = [onnx.numpy_helper.to_array(a.t) for n in proto.graph.node if n.op_type == "Constant" for a in n.attribute]
    assert g.parameter_count == sum(onnx.numpy_helper.to_array(i).size for i in proto.graph.initializer) + \
        sum(c.size for c in constants)


def test_fingerprint_follows_weights_not_names(tmp_path, onnx):
    proto = onnx.load(model_path("digits_mlp"))
    base = razorq.Graph.from_bytes(proto.SerializeToString()).fingerprint
    assert base == razorq.Graph.load(model_path("digits_mlp")).fingerprint
    for node in proto.graph.node:
        node.name += "_renamed"
    assert razorq.Graph.from_bytes(proto.SerializeToString()).fingerprint == base
    w = onnx.numpy_helper.to_array(proto.graph.initializer[0]).copy()
    w.reshape(-1)[0] += 1.0
    proto.graph.initializer[0].CopyFrom(onnx.numpy_helper.from_array(w, proto.graph.initializer[0].name))
    assert razorq.Graph.from_bytes(proto.SerializeToString()).fingerprint != base


def test_save_writes_a_model_onnx_accepts(tmp_path, onnx):
    g = razorq.Graph.load(model_path("digits_dw"))
    out = tmp_path / "saved.onnx"
    g.save(out)
    onnx.checker.check_model(onnx.load(str(out)))
    again = razorq.Graph.load(out)
    assert again.fingerprint == g.fingerprint
    np.testing.assert_array_equal(again.run(TEST_X[:8])["logits"], g.run(TEST_X[:8])["logits"])


@pytest.mark.skipif(not has_ort(), reason="node + onnxruntime-node not installed")
@pytest.mark.parametrize("name", MODELS)
def test_run_matches_onnxruntime(name, tmp_path):
    g = razorq.Graph.load(model_path(name))
    got = g.run(TEST_X)
    assert list(got) == [o.name for o in g.outputs]
    want = ort_first_output(model_path(name), TEST_X, tmp_path)
    np.testing.assert_allclose(got["logits"], want, rtol=1e-4, atol=1e-4)
    assert (got["logits"].argmax(1) == want.argmax(1)).all()


def test_trim_frees_what_runs_keep(tmp_path):
    g = razorq.Graph.load(model_path("digits_cnn"))
    baseline = razorq.memory_in_use()
    want = ort_first_output(model_path("digits_cnn"), TEST_X, tmp_path)
    for _ in range(2):  # the second run reuses the first one's buffers
        np.testing.assert_allclose(g.run(TEST_X)["logits"], want, rtol=1e-4, atol=1e-4)
    assert razorq.memory_in_use() > baseline
    g.trim()
    assert razorq.memory_in_use() == baseline


def test_inputs_by_position_dict_or_keyword_agree():
    g = razorq.Graph.load(model_path("digits_mlp"))
    x = TEST_X[:5]
    a = g.run(x)["logits"]
    np.testing.assert_array_equal(g.run({"input": x})["logits"], a)
    np.testing.assert_array_equal(g.run(input=x)["logits"], a)
    # A strided (non-contiguous) input is read in place.
    wide = np.repeat(x, 2, axis=0)[::2]
    np.testing.assert_array_equal(g.run(wide)["logits"], a)
    with pytest.raises(KeyError, match="input"):
        g.run({"x": x})
    with pytest.raises(razorq.InvalidArgumentError):
        g.run(x, x)


def test_hook_sees_inputs_and_computed_edges_in_order_but_not_weights(onnx):
    proto = onnx.load(model_path("digits_cnn"))
    g = razorq.Graph.load(model_path("digits_cnn"))
    seen = []
    g.run(TEST_X[:3], hook=lambda name, value: seen.append((name, value.shape, value.dtype)))
    node_outputs = [o for n in g.nodes for o in
                    next(p.output for p in proto.graph.node if p.name == n.name)]
    assert [s[0] for s in seen] == ["input"] + node_outputs
    assert not {s[0] for s in seen} & {i.name for i in proto.graph.initializer}
    assert seen[0][1] == (3, 1, 8, 8) and seen[-1][1] == (3, 10)
    assert all(s[2] == np.float32 for s in seen)


def test_hook_edits_in_place_are_seen_by_later_nodes(onnx):
    proto = onnx.load(model_path("digits_mlp"))
    last = proto.graph.node[-1]
    assert last.op_type == "Gemm"
    bias = onnx.numpy_helper.to_array(next(i for i in proto.graph.initializer if i.name == last.input[2]))
    calls = []

    def zero(name, value):
        calls.append(name)
        value[...] = 0

    g = razorq.Graph.load(model_path("digits_mlp"))
    out = g.run(TEST_X[:4], hook=zero, hook_edges=[last.input[0]])["logits"]
    assert calls == [last.input[0]]
    # Gemm(0, W, b) = b on every row.
    np.testing.assert_array_equal(out, np.broadcast_to(bias, out.shape))
    # The graph itself is unchanged.
    assert not np.array_equal(g.run(TEST_X[:4])["logits"], out)


def test_an_exception_raised_in_the_hook_propagates():
    g = razorq.Graph.load(model_path("digits_mlp"))
    baseline = razorq.memory_in_use()

    class Stop(Exception):
        pass

    def hook(name, value):
        if name != "input":
            raise Stop("stop at " + name)

    with pytest.raises(Stop, match="stop at") as e:
        g.run(TEST_X[:2], hook=hook)
    assert isinstance(e.value.__cause__, razorq.CallbackError)
    assert "Stop: stop at" in str(e.value.__cause__)
    assert razorq.memory_in_use() == baseline
    # The graph still runs.
    assert g.run(TEST_X[:2])["logits"].shape == (2, 10)


def test_unknown_hook_edge_is_not_found():
    g = razorq.Graph.load(model_path("digits_mlp"))
    with pytest.raises(razorq.NotFoundError, match="no_such_edge"):
        g.run(TEST_X[:1], hook=lambda n, v: None, hook_edges=["no_such_edge"])


def test_load_errors_are_mapped(tmp_path):
    with pytest.raises(razorq.RazorqIOError):
        razorq.Graph.load(tmp_path / "missing.onnx")
    with pytest.raises(razorq.FormatError):
        razorq.Graph.from_bytes(b"\x08\x07garbage that is not a model")
    bad = tmp_path / "truncated.onnx"
    bad.write_bytes(open(model_path("digits_mlp"), "rb").read()[:500])
    with pytest.raises(razorq.FormatError):
        razorq.Graph.load(bad)


@pytest.mark.parametrize("op, since", [("HardSwish", 14), ("Trilu", 14), ("Mish", 18), ("Gelu", 20)])
def test_an_op_newer_than_the_models_opset_is_refused(onnx, op, since):
    """A node whose op the model's ai.onnx opset does not have is malformed,
    in the main graph and in a subgraph; the ONNX checker agrees where it
    knows the op (python3-onnx 1.12 stops at opset 17)."""
    from onnx import TensorProto, helper

    def model(opset, in_branch, domain=""):
        node = helper.make_node(op, ["x"], ["y"], name="the_op")
        if in_branch:
            branch = helper.make_graph([node], "branch", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                                                              [2, 2])])
            node = helper.make_node("If", ["c"], ["y"], then_branch=branch, else_branch=branch)
        inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])]
        if in_branch:
            inputs.append(helper.make_tensor_value_info("c", TensorProto.BOOL, []))
        graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid(domain, opset)])

    for in_branch in (False, True):
        old = model(since - 1, in_branch)
        if since <= 17:
            with pytest.raises(onnx.checker.ValidationError):
                onnx.checker.check_model(old)
            onnx.checker.check_model(model(since, in_branch))
        with pytest.raises(razorq.FormatError,
                           match=f"'the_op' \\({op}\\): {op} exists from ai.onnx opset {since} on, and the model "
                                 f"imports opset {since - 1}"):
            razorq.Graph.from_bytes(old.SerializeToString())
        with pytest.raises(razorq.FormatError, match=f"{op} exists from ai.onnx opset {since} on"):
            razorq.Graph.from_bytes(model(since - 1, in_branch, domain="ai.onnx").SerializeToString())
        x = np.array([[-1.0, 0.5], [2.0, -3.0]], np.float32)
        inputs = {"x": x, "c": np.array(True)} if in_branch else {"x": x}
        out = razorq.Graph.from_bytes(model(since, in_branch).SerializeToString()).run(**inputs)
        assert out["y"].shape == (2, 2)


@pytest.mark.skipif(not has_ort(), reason="needs node and npm onnxruntime-node (./setup.sh installs them)")
def test_layer_normalization_below_opset_17_runs_as_in_onnxruntime(onnx, tmp_path):
    """The exception: ONNX Runtime registers LayerNormalization in the ONNX
    domain from version 1 and runs it in opset 13..16 models (its own
    transformer optimizer writes such models), so razorq does too."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(17)
    graph = helper.make_graph(
        [helper.make_node("LayerNormalization", ["x", "gamma", "beta"], ["y"], axis=-1, epsilon=1e-5)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 8])],
        [numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "gamma"),
         numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "beta")])
    path = tmp_path / "ln13.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    x = rng.standard_normal((3, 8)).astype(np.float32)
    ours = razorq.Graph.load(path).run(x=x)["y"]
    np.testing.assert_allclose(ours, ort_first_output(str(path), x, tmp_path), rtol=1e-5, atol=1e-5)


def test_an_output_computed_in_another_type_than_declared_is_refused(onnx):
    """A model that declares its output FLOAT but computes float16 is
    malformed (ONNX Runtime refuses it at load): the run says so instead of
    handing back a tensor of another type."""
    from onnx import TensorProto, helper
    graph = helper.make_graph([helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT16)], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    model = razorq.Graph.from_bytes(helper.make_model(graph).SerializeToString())
    with pytest.raises(razorq.FormatError, match="graph output 'y' is declared FLOAT, but the model computes FLOAT16"):
        model.run(x=np.ones(2, np.float32))


def test_bool_tensors_go_in_and_come_out_as_numpy_booleans(onnx):
    """DLPack 0.8's kDLBool (RQ_DL_BOOL) in and out: a bool input given as
    a NumPy bool array, a bool output returned as one."""
    from onnx import TensorProto, helper
    graph = helper.make_graph([helper.make_node("Not", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.BOOL, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.BOOL, [4])])
    model = razorq.Graph.from_bytes(helper.make_model(graph).SerializeToString())
    x = np.array([True, False, False, True])
    y = model.run(x=x)["y"]
    assert y.dtype == np.bool_
    np.testing.assert_array_equal(y, np.logical_not(x))


def test_supports_op_and_type_names(onnx):
    assert razorq.supports_op("Conv") and not razorq.supports_op("NoSuchOp")
    assert razorq.onnx_type_name(onnx.TensorProto.INT64) == "INT64"


def test_wrong_input_dtype_is_refused():
    g = razorq.Graph.load(model_path("digits_mlp"))
    with pytest.raises(razorq.RazorqError):
        g.run(TEST_X[:2].astype(np.float64))


def test_the_hook_may_call_razorq_and_its_errors_propagate():
    g = razorq.Graph.load(model_path("digits_cnn"))
    observers = {}

    def observe(name, value):
        observers.setdefault(name, razorq.Observer({"type": "MinMaxObserver"})).observe(value)

    g.run(TEST_X[:16], hook=observe)
    direct = razorq.Observer({"type": "MinMaxObserver"}).observe(TEST_X[:16])
    np.testing.assert_array_equal(observers["input"].minmax(), direct.minmax())
    assert len(observers) == len(g.nodes) + 1

    def bad(name, value):
        razorq.Observer({"type": "MinMaxObserver", "bit": 99})

    with pytest.raises(razorq.InvalidArgumentError, match="bit"):
        g.run(TEST_X[:1], hook=bad)


def test_an_empty_hook_edge_list_watches_nothing():
    g = razorq.Graph.load(model_path("digits_mlp"))
    calls = []
    out = g.run(TEST_X[:2], hook=lambda n, v: calls.append(n), hook_edges=[])
    assert calls == []
    np.testing.assert_array_equal(out["logits"], g.run(TEST_X[:2])["logits"])
    assert "digits" not in repr(g) and "'logits'" in repr(g)


def test_distinct_graphs_run_in_parallel_threads_with_hooks():
    import threading
    want = razorq.Graph.load(model_path("digits_cnn")).run(TEST_X[:64])["logits"]
    results, errors = {}, []

    def work(i):
        try:
            g = razorq.Graph.load(model_path("digits_cnn"))
            seen = []
            for _ in range(3):
                results[i] = g.run(TEST_X[:64], hook=lambda n, v: seen.append(float(v.sum())))["logits"]
            if i % 2:
                with pytest.raises(ZeroDivisionError):  # raised in this thread's hook
                    g.run(TEST_X[:1], hook=lambda n, v: 1 / 0)
        except BaseException as e:  # reported in the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got in results.values():
        np.testing.assert_array_equal(got, want)
    assert len(results) == 4


@pytest.mark.parametrize("name", ["digits_dw", "digits_cnn"])
def test_watching_an_edge_sees_it_as_the_model_defines_it(onnx, name):
    """The executor folds a Relu/Clip into the Conv before it when nothing else
    reads the Conv's output. A hook on that output must still see the Conv's
    own (unclamped) values, a hook on the activation's output the clamped
    ones, and watching must not change the logits."""
    proto = onnx.load(model_path(name))
    consumers = collections.Counter(i for n in proto.graph.node for i in n.input)
    pairs = [(conv.output[0], act) for conv in proto.graph.node if conv.op_type == "Conv"
             for act in proto.graph.node
             if act.op_type in ("Relu", "Clip") and act.input[0] == conv.output[0] and consumers[conv.output[0]] == 1]
    assert pairs, "the model has no Conv -> Relu/Clip pair"
    g = razorq.Graph.load(model_path(name))
    plain = g.run(TEST_X[:16])["logits"]
    conv_edge, act = pairs[0]
    seen = {}
    watched = g.run(TEST_X[:16], hook=lambda edge, value: seen.__setitem__(edge, value.copy()),
                    hook_edges=[conv_edge, act.output[0]])["logits"]
    assert np.array_equal(plain, watched)
    assert seen[conv_edge].min() < 0, "the Conv's output was clamped before the hook saw it"
    np.testing.assert_array_equal(np.maximum(seen[conv_edge], 0) if act.op_type == "Relu" else
                                  np.clip(seen[conv_edge], 0, seen[act.output[0]].max()), seen[act.output[0]])
    assert seen[act.output[0]].min() >= 0
