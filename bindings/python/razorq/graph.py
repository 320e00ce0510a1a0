# SPDX-License-Identifier: Apache-2.0
"""ONNX graphs (<razorq/graph.h>) and running them (<razorq/exec.h>)."""
import collections
import ctypes

import numpy as np

from . import _lib, errors
from .dlpack import DLTensor, TensorView, to_numpy

_c_void_pp = ctypes.POINTER(ctypes.c_void_p)
_c_char_pp = ctypes.POINTER(ctypes.c_char_p)
_c_size_p = ctypes.POINTER(ctypes.c_size_t)
_c_u64_p = ctypes.POINTER(ctypes.c_uint64)


class _ValueInfo(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("name", ctypes.c_char_p),
        ("onnx_type", ctypes.c_int32),
        ("ndim", ctypes.c_int),
        ("dims", ctypes.POINTER(ctypes.c_int64)),
        ("dim_names", _c_char_pp),
        ("kind", ctypes.c_int),
        ("inner_kind", ctypes.c_int),
    ]

_KIND_NAMES = {0: "tensor", 1: "sequence", 2: "optional"}


EDGE_HOOK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(DLTensor))


class _ExecOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("num_threads", ctypes.c_int),
        ("hook", EDGE_HOOK),
        ("hook_user", ctypes.c_void_p),
        ("hook_edges", _c_char_pp),
        ("n_hook_edges", ctypes.c_size_t),
    ]


_rq_graph_load = _lib.status_function("rq_graph_load", ctypes.c_char_p, _c_void_pp)
_rq_graph_load_buffer = _lib.status_function("rq_graph_load_buffer", ctypes.c_char_p, ctypes.c_size_t, _c_void_pp)
_rq_graph_save = _lib.status_function("rq_graph_save", ctypes.c_void_p, ctypes.c_char_p)
_rq_graph_destroy = _lib.plain_function("rq_graph_destroy", None, ctypes.c_void_p)
_rq_graph_node_count = _lib.plain_function("rq_graph_node_count", ctypes.c_size_t, ctypes.c_void_p)
_rq_graph_node_arity = _lib.status_function("rq_graph_node_arity", ctypes.c_void_p, ctypes.c_size_t, _c_size_p,
                                            _c_size_p)
_rq_graph_node_input = _lib.status_function("rq_graph_node_input", ctypes.c_void_p, ctypes.c_size_t,
                                            ctypes.c_size_t, _c_char_pp)
_rq_graph_node_output = _lib.status_function("rq_graph_node_output", ctypes.c_void_p, ctypes.c_size_t,
                                             ctypes.c_size_t, _c_char_pp)
_rq_graph_initializer = _lib.status_function("rq_graph_initializer", ctypes.c_void_p, ctypes.c_char_p,
                                             ctypes.POINTER(DLTensor))
_rq_graph_node_info = _lib.status_function("rq_graph_node_info", ctypes.c_void_p, ctypes.c_size_t, _c_char_pp,
                                           _c_char_pp)
_rq_graph_op_type_count = _lib.plain_function("rq_graph_op_type_count", ctypes.c_size_t, ctypes.c_void_p)
_rq_graph_op_type_info = _lib.status_function("rq_graph_op_type_info", ctypes.c_void_p, ctypes.c_size_t,
                                              _c_char_pp, _c_size_p)
_rq_value_info_init = _lib.status_function("rq_value_info_init", ctypes.POINTER(_ValueInfo), ctypes.c_size_t)
_rq_graph_input_count = _lib.plain_function("rq_graph_input_count", ctypes.c_size_t, ctypes.c_void_p)
_rq_graph_output_count = _lib.plain_function("rq_graph_output_count", ctypes.c_size_t, ctypes.c_void_p)
_rq_graph_input_info = _lib.status_function("rq_graph_input_info", ctypes.c_void_p, ctypes.c_size_t,
                                            ctypes.POINTER(_ValueInfo))
_rq_graph_output_info = _lib.status_function("rq_graph_output_info", ctypes.c_void_p, ctypes.c_size_t,
                                             ctypes.POINTER(_ValueInfo))
_rq_graph_parameter_count = _lib.status_function("rq_graph_parameter_count", ctypes.c_void_p, _c_u64_p)
_rq_graph_fingerprint = _lib.status_function("rq_graph_fingerprint", ctypes.c_void_p, _c_u64_p)
_rq_onnx_type_name = _lib.plain_function("rq_onnx_type_name", ctypes.c_char_p, ctypes.c_int32)

_rq_exec_options_init = _lib.status_function("rq_exec_options_init", ctypes.POINTER(_ExecOptions), ctypes.c_size_t)
_rq_graph_run = _lib.status_function("rq_graph_run", ctypes.c_void_p, ctypes.POINTER(_ExecOptions),
                                     ctypes.POINTER(DLTensor), ctypes.c_size_t, _c_void_pp)
_rq_tensor_list_count = _lib.plain_function("rq_tensor_list_count", ctypes.c_size_t, ctypes.c_void_p)
_rq_tensor_list_get = _lib.status_function("rq_tensor_list_get", ctypes.c_void_p, ctypes.c_size_t, _c_char_pp,
                                           ctypes.POINTER(ctypes.POINTER(DLTensor)))
_rq_tensor_list_destroy = _lib.plain_function("rq_tensor_list_destroy", None, ctypes.c_void_p)
_rq_exec_supports_op = _lib.plain_function("rq_exec_supports_op", ctypes.c_bool, ctypes.c_char_p)
_rq_graph_trim = _lib.status_function("rq_graph_trim", ctypes.c_void_p)
# rq_error_set is variadic; it is only ever called with the fixed "%s" format.
_rq_error_set = _lib.plain_function("rq_error_set", ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p)

ValueInfo = collections.namedtuple("ValueInfo", "name onnx_type type_name shape kind")
ValueInfo.__doc__ = """A graph input or output as the model declares it.

onnx_type is the ONNX TensorProto.DataType code (0 = not declared) and
type_name its short name ("FLOAT"); shape is None when the rank is not
declared, else a tuple with an int per fixed dim, the symbol's name (str) for
a symbolic dim, and None for an unknown one. kind is "tensor", "sequence" (of
tensors; type and shape are its elements'), "optional" or "optional
sequence"."""

Node = collections.namedtuple("Node", "op_type name")


def supports_op(op_type):
    """Whether the executor implements `op_type` of the default ONNX domain."""
    return bool(_rq_exec_supports_op(_lib.to_c_string(op_type)))


def onnx_type_name(onnx_type):
    """Short name of an ONNX element type code ("FLOAT"; "?" if unknown)."""
    return _rq_onnx_type_name(int(onnx_type)).decode("ascii")


def _value_info(fn, graph_ptr, index):
    info = _ValueInfo()
    _rq_value_info_init(ctypes.byref(info), ctypes.sizeof(info))
    fn(graph_ptr, index, ctypes.byref(info))
    shape = None
    if info.ndim >= 0:
        dims = []
        for d in range(info.ndim):
            symbol = info.dim_names[d] if info.dim_names else None
            if symbol is not None:
                dims.append(symbol.decode("utf-8", "replace"))
            elif info.dims[d] >= 0:
                dims.append(info.dims[d])
            else:
                dims.append(None)
        shape = tuple(dims)
    kind = _KIND_NAMES[info.kind]
    if info.kind == 2 and info.inner_kind == 1:
        kind = "optional sequence"
    return ValueInfo(info.name.decode("utf-8", "replace"), info.onnx_type, onnx_type_name(info.onnx_type), shape,
                     kind)


class _TensorList(_lib.Handle):
    _destroy = _rq_tensor_list_destroy


def tensor_list_to_dict(pointer):
    """Copies an rq_tensor_list into {name: ndarray} and frees it."""
    with _TensorList(pointer) as tensors:
        result = {}
        for i in range(_rq_tensor_list_count(tensors.pointer)):
            name = ctypes.c_char_p()
            dl = ctypes.POINTER(DLTensor)()
            _rq_tensor_list_get(tensors.pointer, i, ctypes.byref(name), ctypes.byref(dl))
            result[name.value.decode("utf-8", "replace")] = to_numpy(dl.contents, tensors).copy()
        return result


def input_tensors(graph_ptr, args, kwargs):
    """The DLTensor array rq_graph_run-like calls take, from positional arrays
    (in input order), one dict {input name: array}, or keyword arguments.
    Returns (array, count, keepalive)."""
    if kwargs or (len(args) == 1 and isinstance(args[0], dict)):
        if args and kwargs:
            raise TypeError("give the inputs either positionally, as one dict, or as keywords")
        feeds = dict(kwargs or args[0])
        names = [_value_info(_rq_graph_input_info, graph_ptr, i).name
                 for i in range(_rq_graph_input_count(graph_ptr))]
        missing = [n for n in names if n not in feeds]
        unknown = [n for n in feeds if n not in names]
        if missing or unknown:
            raise KeyError("inputs %s are missing, %s are not inputs of the graph (inputs: %s)"
                           % (missing, unknown, names))
        args = [feeds[n] for n in names]
    views = [a if isinstance(a, TensorView) else TensorView(np.asarray(a)) for a in args]
    tensors = (DLTensor * max(len(views), 1))(*(v.dltensor for v in views))
    return tensors, len(views), views


class Graph(_lib.Handle):
    """An ONNX model in razorq's graph IR (rq_graph)."""

    _destroy = _rq_graph_destroy

    def __repr__(self):
        if not self._ptr:
            return "<razorq.Graph closed>"
        return "<razorq.Graph %d nodes, inputs %s, outputs %s>" % (
            _rq_graph_node_count(self._ptr), [v.name for v in self.inputs], [v.name for v in self.outputs])

    @classmethod
    def load(cls, path):
        """Loads and validates an ONNX file (external data relative to it)."""
        out = ctypes.c_void_p()
        _rq_graph_load(_lib.to_c_string(path), ctypes.byref(out))
        return cls(out.value)

    @classmethod
    def from_bytes(cls, data):
        """Loads a serialized ModelProto (external data is refused)."""
        data = bytes(data)
        out = ctypes.c_void_p()
        _rq_graph_load_buffer(data, len(data), ctypes.byref(out))
        return cls(out.value)

    def save(self, path):
        """Writes the graph as an ONNX model."""
        _rq_graph_save(self.pointer, _lib.to_c_string(path))

    @property
    def inputs(self):
        """[ValueInfo] of the graph inputs, in the order run() takes them."""
        return [_value_info(_rq_graph_input_info, self.pointer, i) for i in range(_rq_graph_input_count(self.pointer))]

    @property
    def outputs(self):
        """[ValueInfo] of the graph outputs, in the order run() returns them."""
        return [_value_info(_rq_graph_output_info, self.pointer, i)
                for i in range(_rq_graph_output_count(self.pointer))]

    @property
    def nodes(self):
        """[Node(op_type, name)] in execution order (after Constant folding)."""
        nodes = []
        for i in range(_rq_graph_node_count(self.pointer)):
            op, name = ctypes.c_char_p(), ctypes.c_char_p()
            _rq_graph_node_info(self.pointer, i, ctypes.byref(op), ctypes.byref(name))
            nodes.append(Node(_lib.from_c_string(op.value), _lib.from_c_string(name.value)))
        return nodes

    def node_edges(self, index):
        """(inputs, outputs) of node `index` (nodes order): edge names, "" for
        an omitted optional one."""
        n_in, n_out = ctypes.c_size_t(), ctypes.c_size_t()
        _rq_graph_node_arity(self.pointer, index, ctypes.byref(n_in), ctypes.byref(n_out))
        edges = []
        for count, fn in ((n_in.value, _rq_graph_node_input), (n_out.value, _rq_graph_node_output)):
            names = []
            for slot in range(count):
                name = ctypes.c_char_p()
                fn(self.pointer, index, slot, ctypes.byref(name))
                names.append(_lib.from_c_string(name.value))
            edges.append(names)
        return tuple(edges)

    def initializer(self, name):
        """A copy of the initializer (or folded Constant) `name` as an ndarray;
        razorq.NotFoundError if there is none."""
        view = DLTensor()
        _rq_graph_initializer(self.pointer, _lib.to_c_string(name), ctypes.byref(view))
        return np.array(to_numpy(view, self), copy=True)

    @property
    def ops(self):
        """Op histogram: {op type: node count}, in order of first appearance."""
        hist = {}
        for i in range(_rq_graph_op_type_count(self.pointer)):
            op, count = ctypes.c_char_p(), ctypes.c_size_t()
            _rq_graph_op_type_info(self.pointer, i, ctypes.byref(op), ctypes.byref(count))
            hist[_lib.from_c_string(op.value)] = count.value
        return hist

    @property
    def parameter_count(self):
        """Total number of weight elements (over all initializers)."""
        count = ctypes.c_uint64()
        _rq_graph_parameter_count(self.pointer, ctypes.byref(count))
        return count.value

    @property
    def fingerprint(self):
        """XXH3-64 of structure and weights (names excluded), as an int."""
        fp = ctypes.c_uint64()
        _rq_graph_fingerprint(self.pointer, ctypes.byref(fp))
        return fp.value

    def run(self, *args, hook=None, hook_edges=None, num_threads=0, **kwargs):
        """Runs the graph on the CPU and returns {output name: ndarray} (copies).

        Inputs: arrays in input order, one dict {input name: array}, or
        keyword arguments named after the inputs. hook(edge_name, array) is
        called with each computed tensor of the edges in hook_edges (every
        edge when None, none when empty); `array` is a view of the run's own memory, valid only
        during the call, that the hook may modify in place (later nodes see
        the change). An exception the hook raises aborts the run and is
        re-raised here."""
        tensors, n, _keep = input_tensors(self.pointer, args, kwargs)
        options = _ExecOptions()
        _rq_exec_options_init(ctypes.byref(options), ctypes.sizeof(options))
        options.num_threads = num_threads
        raised = []
        if hook_edges is not None:
            hook_edges = [_lib.to_c_string(e) for e in hook_edges]
            if not hook_edges:
                hook = None  # C reads 0 edges as "every edge"; an empty list here means none
        if hook is not None:
            c_hook = EDGE_HOOK(_edge_hook(hook, raised))
            options.hook = c_hook
            if hook_edges is not None:
                names = (ctypes.c_char_p * max(len(hook_edges), 1))(*hook_edges)
                options.hook_edges = ctypes.cast(names, _c_char_pp)
                options.n_hook_edges = len(hook_edges)
        out = ctypes.c_void_p()
        try:
            _rq_graph_run(self.pointer, ctypes.byref(options), tensors, n, ctypes.byref(out))
        except errors.CallbackError as e:
            if raised:
                raise raised[0] from e
            raise
        return tensor_list_to_dict(out.value)

    def trim(self):
        """Frees the activation buffers run() keeps with the graph for the
        next run (see rq_graph_trim)."""
        _rq_graph_trim(self.pointer)


def _edge_hook(hook, raised):
    """The C rq_edge_hook calling `hook`: an exception cannot cross C frames,
    so it is stored in `raised`, the run is aborted with RQ_ERR_CALLBACK, and
    Graph.run re-raises it."""

    def c_hook(user, edge_name, value):
        try:
            hook(edge_name.decode("utf-8", "replace"), to_numpy(value.contents, None))
            return 0
        except BaseException as e:  # noqa: B902 - KeyboardInterrupt must stop the run too
            raised.append(e)
            message = ("%s: %s" % (type(e).__name__, e)).encode("utf-8", "replace")
            return _rq_error_set(errors.Status.ERR_CALLBACK, b"%s", message)

    return c_hook
