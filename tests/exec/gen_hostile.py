#!/usr/bin/python3
"""Small ONNX models that load but cannot run, for tests/exec.

    /usr/bin/python3 tests/exec/gen_hostile.py

Each writes tests/exec/data/hostile_<name>.onnx: one float input x [2,4,5,5]
(unless noted) and one node whose attributes or constant inputs are wrong or
absurd at run time. The executor must refuse each with a clear status and no
crash, leak or huge allocation (see the table in test_exec.c).
"""
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
I64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)
F32 = lambda name, v: numpy_helper.from_array(np.array(v, np.float32), name)


def save(name, node, inits=(), opset=13, out_type=TensorProto.FLOAT, before=(), x_info=None):
    """node: one node, or a list of them ending with the one that fails.
    x_info: the input's ValueInfoProto when it is not the float x."""
    nodes = list(before) + (node if isinstance(node, list) else [node])
    x_info = x_info or helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4, 5, 5])
    g = helper.make_graph(nodes, name, [x_info],
                          [helper.make_tensor_value_info("y", out_type, None)], list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="razorq-tests")
    m.ir_version = 8 if opset >= 18 else 7  # opset 18 needs IR version 8
    onnx.save(m, os.path.join(out, f"hostile_{name}.onnx"))


save("conv_group", helper.make_node("Conv", ["x", "w"], ["y"], name="bad_conv", group=3),
     [F32("w", np.zeros((6, 1, 3, 3)))])
save("conv_kernel_too_big", helper.make_node("Conv", ["x", "w"], ["y"], name="big_kernel"),
     [F32("w", np.zeros((2, 4, 9, 9)))])
save("gather_index", helper.make_node("Gather", ["x", "i"], ["y"], name="far_index", axis=1), [I64("i", [0, 7])])
save("reshape_count", helper.make_node("Reshape", ["x", "s"], ["y"], name="wrong_count"), [I64("s", [3, -1, 7])])
save("add_shapes", helper.make_node("Add", ["x", "b"], ["y"], name="no_broadcast"), [F32("b", np.zeros((3,)))])
save("pad_mode", helper.make_node("Pad", ["x", "p"], ["y"], name="wrap_pad", mode="wrap"), [I64("p", [0] * 8)])
save("resize_mode", helper.make_node("Resize", ["x", "", "sc"], ["y"], name="lanczos", mode="lanczos"),
     [F32("sc", [1, 1, 2, 2])])
# Resize-18's axes, antialias and keep_aspect_ratio_policy, malformed.
resize18 = lambda inputs, name, **kw: helper.make_node("Resize", ["x"] + inputs, ["y"], name=name, **kw)
save("resize_axes_repeated", resize18(["", "sc"], "axes_2_2", mode="linear", axes=[2, -2]),
     [F32("sc", [0.5, 0.5])], opset=18)
save("resize_axes_range", resize18(["", "sc"], "axis_4", axes=[4]), [F32("sc", [0.5])], opset=18)
save("resize_scales_count", resize18(["", "sc"], "four_scales", axes=[2, 3]), [F32("sc", [1, 1, 2, 2])], opset=18)
save("resize_sizes_count", resize18(["", "", "sz"], "two_sizes", axes=[-1]), [I64("sz", [3, 3])], opset=18)
save("resize_roi_count", resize18(["roi", "", "sz"], "full_roi", axes=[3], mode="linear",
                                  coordinate_transformation_mode="tf_crop_and_resize"),
     [F32("roi", [0, 0, 0, 0, 1, 1, 1, 1]), I64("sz", [3])], opset=18)
save("resize_policy", resize18(["", "", "sz"], "fit_policy", keep_aspect_ratio_policy="fit"),
     [I64("sz", [2, 4, 3, 3])], opset=18)
save("resize_antialias_value", resize18(["", "sc"], "antialias_2", mode="linear", antialias=2),
     [F32("sc", [1, 1, 0.5, 0.5])], opset=18)
save("unknown_op", helper.make_node("FrobnicateTensor", ["x"], ["y"], name="frob"))
save("range_huge", helper.make_node("Range", ["a", "b", "c"], ["y"], name="long_range"),
     [F32("a", 0), F32("b", 1e30), F32("c", 1e-30)])
save("constant_of_shape_huge", helper.make_node("ConstantOfShape", ["s"], ["y"], name="huge_fill"),
     [I64("s", [1 << 40, 1 << 40, 1 << 40])])
save("tile_overflow", helper.make_node("Tile", ["x", "r"], ["y"], name="many_tiles"),
     [I64("r", [1 << 62, 1 << 62, 1, 1])])
save("pool_pads_huge", helper.make_node("MaxPool", ["x"], ["y"], name="huge_pads", kernel_shape=[2, 2],
                                        pads=[1 << 62, 0, 1 << 62, 0]))
save("slice_extreme", helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["y"], name="extreme_slice"),
     [I64("st", [np.iinfo(np.int64).max]), I64("en", [np.iinfo(np.int64).min]), I64("ax", [3]),
      I64("sp", [np.iinfo(np.int64).min])])
# training_mode exists from opset 14 on (razorq runs it there).
save("batchnorm_training", helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="train_bn",
                                            training_mode=1),
     [F32("s", np.ones(4)), F32("b", np.zeros(4)), F32("m", np.zeros(4)), F32("v", np.ones(4))], opset=13)
# Recurrent ops read x as a sequence: seq 2, batch 4, 25 features.
seq = [helper.make_node("Reshape", ["x", "seq_shape"], ["xs"], name="to_sequence")]
seq_shape = I64("seq_shape", [2, 4, 25])
save("rnn_w_shape", helper.make_node("RNN", ["xs", "w", "r"], ["y"], name="short_w", hidden_size=3),
     [seq_shape, F32("w", np.zeros((1, 4, 25))), F32("r", np.zeros((1, 3, 3)))], before=seq)
save("gru_hidden_size", helper.make_node("GRU", ["xs", "w", "r"], ["y"], name="gru_h5", hidden_size=5),
     [seq_shape, F32("w", np.zeros((1, 9, 25))), F32("r", np.zeros((1, 9, 3)))], before=seq)
save("lstm_seq_lens", helper.make_node("LSTM", ["xs", "w", "r", "", "lens"], ["y"], name="long_lens", hidden_size=2),
     [seq_shape, F32("w", np.zeros((1, 8, 25))), F32("r", np.zeros((1, 8, 2))),
      numpy_helper.from_array(np.array([2, 3, 1, 1], np.int32), "lens")], before=seq)
save("rnn_activation", helper.make_node("RNN", ["xs", "w", "r"], ["y"], name="swish_rnn", hidden_size=3,
                                        activations=["Swish"]),
     [seq_shape, F32("w", np.zeros((1, 3, 25))), F32("r", np.zeros((1, 3, 3)))], before=seq)
save("lstm_double", helper.make_node("LSTM", ["xs", "w", "r"], ["y"], name="double_w", hidden_size=2),
     [seq_shape, numpy_helper.from_array(np.zeros((1, 8, 25)), "w"), F32("r", np.zeros((1, 8, 2)))], before=seq)
save("gru_initial_h", helper.make_node("GRU", ["xs", "w", "r", "", "", "h0"], ["y"], name="h0_batch3",
                                       hidden_size=3),
     [seq_shape, F32("w", np.zeros((1, 9, 25))), F32("r", np.zeros((1, 9, 3))), F32("h0", np.zeros((1, 3, 3)))],
     before=seq)
save("gru_cell_output", helper.make_node("GRU", ["xs", "w", "r"], ["y", "yh", "yc"], name="gru_with_c", hidden_size=3),
     [seq_shape, F32("w", np.zeros((1, 9, 25))), F32("r", np.zeros((1, 9, 3)))], before=seq)

# Vision ops (opset 16): inputs that contradict each other or are absurd.
ROIS = [[0, 0, 3, 3], [1, 1, 4, 4]]
save("roialign_batch_index", helper.make_node("RoiAlign", ["x", "r", "b"], ["y"], name="far_batch"),
     [F32("r", ROIS), I64("b", [0, 2])], opset=16)
save("roialign_rois_width", helper.make_node("RoiAlign", ["x", "r", "b"], ["y"], name="wide_rois"),
     [F32("r", [[0, 0, 3, 3, 1], [1, 1, 4, 4, 1]]), I64("b", [0, 1])], opset=16)
save("roialign_nan_roi", helper.make_node("RoiAlign", ["x", "r", "b"], ["y"], name="nan_roi"),
     [F32("r", [[0, 0, 3, 3], [1, np.nan, 4, 4]]), I64("b", [0, 1])], opset=16)
save("roialign_huge_roi", helper.make_node("RoiAlign", ["x", "r", "b"], ["y"], name="huge_roi"),
     [F32("r", [[0, 0, 3e30, 3e30]]), I64("b", [0])], opset=16)
save("gridsample_grid_dim", helper.make_node("GridSample", ["x", "g"], ["y"], name="grid_xyz"),
     [F32("g", np.zeros((2, 3, 3, 3)))], opset=16)
save("gridsample_mode", helper.make_node("GridSample", ["x", "g"], ["y"], name="cubic_grid", mode="cubic"),
     [F32("g", np.zeros((2, 3, 3, 2)))], opset=16)
# Opset 20: GridSample's renamed modes and volumetric X, AffineGrid.
vol = [helper.make_node("Reshape", ["x", "vol_shape"], ["xv"], name="to_volume")]
vol_shape = I64("vol_shape", [2, 4, 5, 5, 1])
save("gridsample20_old_mode_name", helper.make_node("GridSample", ["x", "g"], ["y"], name="bilinear_at_20",
                                                    mode="bilinear"),
     [F32("g", np.zeros((2, 3, 3, 2)))], opset=20)
save("gridsample20_cubic_volume", helper.make_node("GridSample", ["xv", "g"], ["y"], name="tricubic", mode="cubic"),
     [vol_shape, F32("g", np.zeros((2, 2, 2, 2, 3)))], opset=20, before=vol)
save("gridsample20_volume_grid_2d", helper.make_node("GridSample", ["xv", "g"], ["y"], name="flat_grid"),
     [vol_shape, F32("g", np.zeros((2, 2, 2, 2, 2)))], opset=20, before=vol)
save("affinegrid_theta_shape", helper.make_node("AffineGrid", ["t", "s"], ["y"], name="theta_2x4"),
     [F32("t", np.zeros((2, 2, 4))), I64("s", [2, 1, 3, 3])], opset=20)
save("affinegrid_size_count", helper.make_node("AffineGrid", ["t", "s"], ["y"], name="size_5_for_2d"),
     [F32("t", np.zeros((2, 2, 3))), I64("s", [2, 1, 3, 3, 3])], opset=20)
save("affinegrid_size_batch", helper.make_node("AffineGrid", ["t", "s"], ["y"], name="batch_3_vs_2"),
     [F32("t", np.zeros((2, 2, 3))), I64("s", [3, 1, 3, 3])], opset=20)
save("affinegrid_size_huge", helper.make_node("AffineGrid", ["t", "s"], ["y"], name="huge_grid"),
     [F32("t", np.zeros((2, 2, 3))), I64("s", [2, 1, 1 << 40, 1 << 40])], opset=20)
save("nms_boxes_shape", helper.make_node("NonMaxSuppression", ["bx", "sc"], ["y"], name="five_coords"),
     [F32("bx", np.zeros((1, 3, 5))), F32("sc", np.zeros((1, 2, 3)))], opset=11, out_type=TensorProto.INT64)
save("nms_iou_threshold", helper.make_node("NonMaxSuppression", ["bx", "sc", "m", "iou"], ["y"], name="iou_2"),
     [F32("bx", np.zeros((1, 3, 4))), F32("sc", np.zeros((1, 2, 3))), I64("m", [3]), F32("iou", [2.0])],
     opset=11, out_type=TensorProto.INT64)

# Opset-18 ops (lib/exec/ops_groupnorm.c, the Bitwise ops): x has C = 4.
def group_norm(name, inits, before=(), **attrs):
    save(name, helper.make_node("GroupNormalization", ["x" if not before else "r", "s", "b"], ["y"], name=name,
                                **attrs), inits, opset=18, before=before)


group_norm("groupnorm_groups_3", [F32("s", np.ones(3)), F32("b", np.zeros(3))], num_groups=3)
group_norm("groupnorm_groups_0", [F32("s", np.ones(0)), F32("b", np.zeros(0))], num_groups=0)
group_norm("groupnorm_no_groups", [F32("s", np.ones(2)), F32("b", np.zeros(2))])
group_norm("groupnorm_per_channel", [F32("s", np.ones(4)), F32("b", np.zeros(4))], num_groups=2)  # opset 21's form
group_norm("groupnorm_rank_1", [F32("s", np.ones(1)), F32("b", np.zeros(1)), I64("shape", [200])],
           before=[helper.make_node("Reshape", ["x", "shape"], ["r"])], num_groups=1)
group_norm("groupnorm_scale_double", [numpy_helper.from_array(np.ones(2), "s"), F32("b", np.zeros(2))], num_groups=2)
save("bitwise_float", helper.make_node("BitwiseAnd", ["x", "x"], ["y"], name="and_floats"), opset=18)
save("bitwise_mixed", helper.make_node("BitwiseOr", ["i32", "i64"], ["y"], name="or_i32_i64"), opset=18,
     out_type=TensorProto.INT32, before=[helper.make_node("Cast", ["x"], ["i32"], to=TensorProto.INT32),
                                         helper.make_node("Cast", ["x"], ["i64"], to=TensorProto.INT64)])
save("bitwise_not_bool", helper.make_node("BitwiseNot", ["c"], ["y"], name="not_bool"), opset=18,
     out_type=TensorProto.BOOL, before=[helper.make_node("Cast", ["x"], ["c"], to=TensorProto.BOOL)])

def einsum(name, equation, inits=()):
    save(name, helper.make_node("Einsum", ["x"] + [t.name for t in inits], ["y"], name=name, equation=equation),
         inits, opset=12)


einsum("einsum_unbalanced_ellipsis", "..abcd->abcd")
einsum("einsum_letter_not_in_input", "abcd->abce")
einsum("einsum_operand_count", "abcd,abcd->a")
einsum("einsum_illegal_char", "ab#d->a")
einsum("einsum_two_arrows", "abcd->ab->a")
einsum("einsum_rank_mismatch", "abc->a")
einsum("einsum_diagonal_mismatch", "aacd->a")
einsum("einsum_output_repeated", "abcd->aa")
einsum("einsum_dim_mismatch", "abcd,abcd->", [F32("w", np.zeros((2, 4, 5, 3)))])
save("det_non_square", [helper.make_node("Reshape", ["x", "s"], ["r"], name="to_10x4x5"),
                        helper.make_node("Det", ["r"], ["y"], name="rect_det")], [I64("s", [10, 4, 5])], opset=13)
far = np.zeros((2, 4, 5, 5), np.int64)
far[1, 2, 3, 4] = 2 * 4 * 10 * 10  # one past the end of the [2, 4, 10, 10] output
save("maxunpool_index_range", helper.make_node("MaxUnpool", ["x", "i"], ["y"], name="far_unpool", kernel_shape=[2, 2],
                                               strides=[2, 2]), [numpy_helper.from_array(far, "i")], opset=11)
save("maxunpool_output_shape", helper.make_node("MaxUnpool", ["x", "i", "s"], ["y"], name="wrong_nc_unpool",
                                                kernel_shape=[2, 2], strides=[2, 2]),
     [numpy_helper.from_array(np.zeros((2, 4, 5, 5), np.int64), "i"), I64("s", [2, 3, 10, 10])], opset=11)

# Signal ops read x as signals: batch 2, 100 samples, real (1) or, concatenated
# three times, an impossible 3 parts per sample.
sig = [helper.make_node("Reshape", ["x", "sig_shape"], ["xs"], name="to_signal")]
sig_shape = I64("sig_shape", [2, 100, 1])
save("stft_frame_step_zero", helper.make_node("STFT", ["xs", "step", "", "len"], ["y"], name="step0_stft"),
     [sig_shape, I64("step", 0), I64("len", 8)], opset=17, before=sig)
save("stft_window_length", helper.make_node("STFT", ["xs", "step", "win", "len"], ["y"], name="short_window"),
     [sig_shape, I64("step", 4), F32("win", np.ones(12)), I64("len", 16)], opset=17, before=sig)
save("stft_complex_onesided", helper.make_node("STFT", ["xc", "step", "", "len"], ["y"], name="complex_stft"),
     [sig_shape, I64("step", 4), I64("len", 8)], opset=17,
     before=sig + [helper.make_node("Concat", ["xs", "xs"], ["xc"], name="as_complex", axis=2)])
save("dft_last_dim", helper.make_node("DFT", ["x3"], ["y"], name="three_parts"), [sig_shape], opset=17,
     before=sig + [helper.make_node("Concat", ["xs", "xs", "xs"], ["x3"], name="three", axis=2)])
save("dft_length_zero", helper.make_node("DFT", ["xs", "n"], ["y"], name="empty_dft"), [sig_shape, I64("n", 0)],
     opset=17, before=sig)
save("dft_axis", helper.make_node("DFT", ["xs"], ["y"], name="dft_axis2", axis=2), [sig_shape], opset=17,
     before=sig)
# DFT-20: axis is an input.
save("dft20_axis_attribute", helper.make_node("DFT", ["xs"], ["y"], name="axis_attr_20", axis=1), [sig_shape],
     opset=20, before=sig)
save("dft20_irfft_real", helper.make_node("DFT", ["xs"], ["y"], name="irfft_of_real", inverse=1, onesided=1),
     [sig_shape], opset=20, before=sig)
save("dft20_axis_last", helper.make_node("DFT", ["xs", "", "a"], ["y"], name="axis_minus_1"),
     [sig_shape, I64("a", -1)], opset=20, before=sig)
save("unique_axis", helper.make_node("Unique", ["x"], ["y"], name="unique_axis4", axis=4))
save("mel_upper_edge", helper.make_node("MelWeightMatrix", ["m", "n", "sr", "lo", "hi"], ["y"], name="past_nyquist"),
     [I64("m", 8), I64("n", 16), I64("sr", 8000), F32("lo", 0), F32("hi", 16000)], opset=17)

# ---- control flow: subgraphs that do not fit their op ----
B = TensorProto.BOOL
BOOL = lambda name, v: numpy_helper.from_array(np.array(v, np.bool_), name)
vi = helper.make_tensor_value_info


def branch(name, n_outputs):
    return helper.make_graph([helper.make_node("Identity", ["x"], [f"{name}_{k}"]) for k in range(n_outputs)], name, [],
                             [vi(f"{name}_{k}", TensorProto.FLOAT, None) for k in range(n_outputs)])


save("if_branch_outputs", helper.make_node("If", ["c"], ["y"], name="mismatched_if", then_branch=branch("t", 1),
                                           else_branch=branch("e", 2)), [BOOL("c", True)])
loop_body = lambda inputs, cond_shape: helper.make_graph(
    [helper.make_node("Identity", ["x"], ["v_out"]), helper.make_node("Constant", [], ["cond_out"],
                                                                       value=BOOL("k", np.ones(cond_shape, np.bool_)))],
    "body", inputs, [vi("cond_out", B, cond_shape), vi("v_out", TensorProto.FLOAT, None)])
save("loop_body_inputs", helper.make_node("Loop", ["m", "c", "x"], ["y"], name="two_input_body",
                                          body=loop_body([vi("i", TensorProto.INT64, []), vi("ci", B, [])], [])),
     [I64("m", 2), BOOL("c", True)])
full_inputs = [vi("i", TensorProto.INT64, []), vi("ci", B, []), vi("v", TensorProto.FLOAT, None)]
save("loop_cond_float", helper.make_node("Loop", ["m", "c", "x"], ["y"], name="float_cond",
                                         body=loop_body(full_inputs, [])), [I64("m", 2), F32("c", 1.0)])
save("loop_body_cond_shape", helper.make_node("Loop", ["m", "c", "x"], ["y"], name="two_conds",
                                              body=loop_body(full_inputs, [2])), [I64("m", 2), BOOL("c", True)])
scan_body = helper.make_graph([helper.make_node("Identity", ["xs"], ["ys"])], "body",
                              [vi("xs", TensorProto.FLOAT, None)], [vi("ys", TensorProto.FLOAT, None)])
save("scan_axis_range", helper.make_node("Scan", ["x"], ["y"], name="axis_7_scan", body=scan_body, num_scan_inputs=1,
                                         scan_input_axes=[7]), opset=16)


def nested_if(levels):
    """If nodes nested `levels` subgraphs deep (then_branch holds the next
    level; every level reads the main graph's cond c)."""
    inner = branch("leaf", 1)
    for level in range(levels - 1):
        inner = helper.make_graph([helper.make_node("If", ["c"], [f"o{level}"], then_branch=inner,
                                                    else_branch=branch(f"e{level}", 1))],
                                  f"level{level}", [], [vi(f"o{level}", TensorProto.FLOAT, None)])
    return helper.make_node("If", ["c"], ["y"], name="deep_if", then_branch=inner, else_branch=branch("e", 1))


# Sequences (lib/exec/ops_sequence.c): x split along axis 0 is 2 tensors
# [1, 4, 5, 5] (axis 1: 4 of [2, 1, 5, 5]).
split0 = [helper.make_node("SplitToSequence", ["x"], ["s"], name="split_x")]
save("sequence_at_range", helper.make_node("SequenceAt", ["s", "p"], ["y"], name="at_5"), [I64("p", 5)],
     opset=16, before=split0)
save("sequence_insert_type", [helper.make_node("SequenceInsert", ["s", "p"], ["s2"], name="insert_int"),
                              helper.make_node("ConcatFromSequence", ["s2"], ["y"], axis=0)],
     [I64("p", [1])], opset=16, before=split0)
save("sequence_erase_empty", [helper.make_node("SequenceErase", ["e"], ["e2"], name="erase_nothing"),
                              helper.make_node("ConcatFromSequence", ["e2"], ["y"], axis=0)],
     opset=16, before=[helper.make_node("SequenceEmpty", [], ["e"], dtype=TensorProto.FLOAT)])
save("concat_from_sequence_empty", helper.make_node("ConcatFromSequence", ["e"], ["y"], name="concat_none", axis=0),
     opset=16, before=[helper.make_node("SequenceEmpty", [], ["e"], dtype=TensorProto.FLOAT)])
save("concat_from_sequence_shapes", [helper.make_node("SequenceConstruct", ["x", "w"], ["s"]),
                                     helper.make_node("ConcatFromSequence", ["s"], ["y"], name="ragged", axis=0)],
     [F32("w", np.zeros((2, 4, 5, 4)))], opset=16)
save("split_to_sequence_sizes", [helper.make_node("SplitToSequence", ["x", "sp"], ["s"], name="split_1_2", axis=1),
                                 helper.make_node("ConcatFromSequence", ["s"], ["y"], axis=1)],
     [I64("sp", [1, 2])], opset=16)
save("sequence_into_relu", helper.make_node("Relu", ["s"], ["y"], name="relu_of_list"), opset=16, before=split0)
save("sequence_output", helper.make_node("Identity", ["s"], ["y"], name="list_out"), opset=16, before=split0)
save("sequence_input", helper.make_node("SequenceLength", ["x"], ["y"], name="count"), opset=16,
     out_type=TensorProto.INT64,
     x_info=helper.make_value_info("x", helper.make_sequence_type_proto(
         helper.make_tensor_type_proto(TensorProto.FLOAT, None))))
save("optional_get_empty", [helper.make_node("Optional", [], ["o"], type=helper.make_tensor_type_proto(
                                TensorProto.FLOAT, None)),
                            helper.make_node("OptionalGetElement", ["o"], ["y"], name="get_none")], opset=16)
map_body = helper.make_graph([helper.make_node("Add", ["a", "b"], ["c"])], "map_body",
                             [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in "ab"],
                             [helper.make_tensor_value_info("c", TensorProto.FLOAT, None)])
save("sequence_map_lengths", [helper.make_node("SplitToSequence", ["x"], ["s1"], axis=1),
                              helper.make_node("SequenceMap", ["s", "s1"], ["m"], name="map_2_vs_4", body=map_body),
                              helper.make_node("ConcatFromSequence", ["m"], ["y"], axis=0)], opset=17, before=split0)

# Layout ops of opset 18 (lib/exec/ops_layout.c). Col2Im reads x as columns
# [2, 4, 25]: one channel of 2x2 blocks at 25 block positions (a 6x6 image).
cols = [helper.make_node("Reshape", ["x", "col_shape"], ["xc"], name="to_columns")]
col_shape = I64("col_shape", [2, 4, 25])


def col2im(name, node_name, image, block, inits=(), **attrs):
    save(name, helper.make_node("Col2Im", ["xc", "im", "bl"], ["y"], name=node_name, **attrs),
         [col_shape, I64("im", image), I64("bl", block)] + list(inits), opset=18, before=cols)


col2im("col2im_block_count", "wrong_L", [7, 6], [2, 2])
col2im("col2im_block_too_big", "big_block", [2, 2], [2, 2], dilations=[3, 3])
col2im("col2im_block_zero", "zero_block", [6, 6], [0, 2])
col2im("col2im_pads_overflow", "huge_pads_col", [6, 6], [2, 2], pads=[1 << 62, 1 << 62, 1 << 62, 1 << 62])
col2im("col2im_shape_lengths", "three_d_block", [6, 6], [2, 2, 1])
save("col2im_rank", helper.make_node("Col2Im", ["x", "im", "bl"], ["y"], name="rank4_col"),
     [I64("im", [6, 6]), I64("bl", [2, 2])], opset=18)


def center_crop_pad(name, node_name, shape, **attrs):
    save(name, helper.make_node("CenterCropPad", ["x", "s"], ["y"], name=node_name, **attrs), [I64("s", shape)],
         opset=18)


center_crop_pad("center_crop_pad_axis_range", "axis_4_crop", [3], axes=[4])
center_crop_pad("center_crop_pad_negative", "negative_crop", [-1, 3], axes=[2, 3])
center_crop_pad("center_crop_pad_shape_count", "short_shape", [3, 3])
center_crop_pad("center_crop_pad_repeated_axis", "axis_twice", [3, 3], axes=[2, -2])

# DeformConv (opset 19, lib/exec/ops_deform.c): x is [2, 4, 5, 5]; W [2, 4, 3, 3]
# gives a 3x3 output, so offset is [2, 18, 3, 3] and mask [2, 9, 3, 3].
def save_opset(name, node, inits, opset, ir_version, **kw):
    """save() at an opset above 18, with that opset's IR version."""
    save(name, node, inits, opset=opset, **kw)
    path = os.path.join(out, f"hostile_{name}.onnx")
    m = onnx.load(path)
    m.ir_version = ir_version
    onnx.save(m, path)


def deform(name, w=(2, 4, 3, 3), offset=(2, 18, 3, 3), extra=(), inits=(), **attrs):
    """extra: the optional inputs after offset (B, mask), named as inits."""
    save_opset(name, helper.make_node("DeformConv", ["x", "w", "off"] + list(extra), ["y"], name=name, **attrs),
               [F32("w", np.zeros(w)), F32("off", np.zeros(offset))] + list(inits), 19, 9)


deform("deform_offset_channels", offset=(2, 17, 3, 3))
deform("deform_offset_spatial", offset=(2, 18, 4, 3))
deform("deform_offset_batch", offset=(1, 18, 3, 3))
deform("deform_mask_channels", extra=["", "m"], inits=[F32("m", np.ones((2, 18, 3, 3)))])
deform("deform_offset_group_3", offset=(2, 54, 3, 3), offset_group=3)
deform("deform_offset_group_0", offset_group=0)
deform("deform_group_weight", group=2)
deform("deform_group_output", w=(3, 2, 3, 3), group=2)
deform("deform_kernel_shape", kernel_shape=[2, 2])
deform("deform_kernel_too_big", w=(2, 4, 9, 9))
deform("deform_dilations_zero", dilations=[0, 1])
deform("deform_strides_count", strides=[1, 1, 1])
deform("deform_pads_negative", pads=[0, -1, 0, 0])
deform("deform_pads_huge", pads=[1 << 62, 0, 1 << 62, 0])
deform("deform_bias_shape", extra=["b"], inits=[F32("b", np.zeros(3))])
save_opset("deform_offset_double", helper.make_node("DeformConv", ["x", "w", "off"], ["y"], name="deform_offset_double"),
           [F32("w", np.zeros((2, 4, 3, 3))), numpy_helper.from_array(np.zeros((2, 18, 3, 3)), "off")], 19, 9)
# DOUBLE is a valid DeformConv type razorq does not implement.
save_opset("deform_x_double", helper.make_node("DeformConv", ["xd", "w", "off"], ["y"], name="deform_x_double"),
           [numpy_helper.from_array(np.zeros((2, 4, 3, 3)), "w"), numpy_helper.from_array(np.zeros((2, 18, 3, 3)), "off")],
           19, 9, out_type=TensorProto.DOUBLE, before=[helper.make_node("Cast", ["x"], ["xd"], to=TensorProto.DOUBLE)])
# Runs: NaN, infinite and huge offsets and a NaN mask sample nothing
# outside X (a 1x1 output).
deform("deform_nan_offsets", w=(2, 4, 5, 5), offset=(2, 50, 1, 1), extra=["", "m"],
       inits=[F32("m", np.full((2, 25, 1, 1), np.nan))])
m = onnx.load(os.path.join(out, "hostile_deform_nan_offsets.onnx"))
for t in m.graph.initializer:
    if t.name == "off":
        t.CopyFrom(F32("off", np.resize(np.array([np.nan, np.inf, -np.inf, 1e30, -1e30], np.float32), (2, 50, 1, 1))))
onnx.save(m, os.path.join(out, "hostile_deform_nan_offsets.onnx"))

# GroupNormalization at opset 21: scale and bias per channel (x has C = 4).
save_opset("groupnorm21_per_group", helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"],
                                                     name="groupnorm21_per_group", num_groups=2),
           [F32("s", np.ones(2)), F32("b", np.zeros(2))], 21, 10)
save_opset("groupnorm21_stash_int", helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"],
                                                     name="groupnorm21_stash_int", num_groups=2, stash_type=7),
           [F32("s", np.ones(4)), F32("b", np.zeros(4))], 21, 10)

# Loading refuses more than 16 levels (RQ__MAX_SUBGRAPH_DEPTH) and takes 16.
save("if_too_deep", nested_if(17), [BOOL("c", True)])
save("if_deepest", nested_if(16), [BOOL("c", True)])

# Opsets 19-21 (gen_opset19.py runs the well-formed forms).
save("avgpool_dilations_opset18", helper.make_node("AveragePool", ["x"], ["y"], name="dilated_avg18",
                                                   kernel_shape=[2, 2], dilations=[2, 2]), opset=18)
save("avgpool_dilations_same", helper.make_node("AveragePool", ["x"], ["y"], name="dilated_same_avg",
                                                kernel_shape=[2, 2], dilations=[2, 1], auto_pad="SAME_LOWER"), opset=19)
save("pad_wrap_negative", helper.make_node("Pad", ["x", "p"], ["y"], name="wrap_crop", mode="wrap"),
     [I64("p", [0, 0, -1, 2, 0, 0, 1, 0])], opset=19)
save("pad_wrap_beyond_dim", helper.make_node("Pad", ["x", "p"], ["y"], name="wrap_twice", mode="wrap"),
     [I64("p", [0, 0, 6, 0, 0, 0, 0, 0])], opset=19)
save("resize_half_pixel_symmetric_opset18",
     helper.make_node("Resize", ["x", "", "sc"], ["y"], name="symmetric18", mode="linear",
                      coordinate_transformation_mode="half_pixel_symmetric"), [F32("sc", [1, 1, 2, 2])], opset=18)
save("reducemax_bool_opset18", helper.make_node("ReduceMax", ["xb"], ["y"], name="bool_max18"), opset=18,
     out_type=TensorProto.BOOL, before=[helper.make_node("Cast", ["x"], ["xb"], to=TensorProto.BOOL)])


def quantize(name, node_name, inits, opset=21, out_type=TensorProto.UINT8, **attrs):
    save(name, helper.make_node("QuantizeLinear", ["x"] + [i.name for i in inits], ["y"], name=node_name, **attrs),
         inits, opset=opset, out_type=out_type)


quantize("quantize_blocked_scale_shape", "blocks_of_2", [F32("s", np.ones((2, 3, 5, 5)))], axis=1, block_size=2)
quantize("quantize_block_size_negative", "block_minus_1", [F32("s", 1)], block_size=-1)
quantize("quantize_output_dtype_mismatch", "int16_vs_uint8",
         [F32("s", 1), numpy_helper.from_array(np.array(0, np.uint8), "z")], output_dtype=TensorProto.INT16)
# 17: FLOAT8E4M3FN, which onnx 1.12 does not name yet.
quantize("quantize_output_dtype_float8", "to_e4m3", [F32("s", 1)], output_dtype=17)
quantize("quantize_int16_opset19", "int16_at_19", [F32("s", 1), numpy_helper.from_array(np.array(0, np.int16), "z")],
         opset=19, out_type=TensorProto.INT16)
save("dequantize_float16_scale_opset18",
     helper.make_node("DequantizeLinear", ["q", "s"], ["y"], name="half_scale18"),
     [numpy_helper.from_array(np.array(0.5, np.float16), "s"), F32("one", 1)], opset=18,
     before=[helper.make_node("QuantizeLinear", ["x", "one"], ["q"])])

print(sorted(f for f in os.listdir(out) if f.startswith("hostile_")))
