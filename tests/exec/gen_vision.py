#!/usr/bin/python3
"""Test cases for the vision ops (GridSample, RoiAlign, NonMaxSuppression).

    NODE_PATH=<dir with onnxruntime-node>/node_modules /usr/bin/python3 tests/exec/gen_vision.py

Writes tests/exec/data/vision/node/<case>/model.onnx with
test_data_set_0/input_K.pb and output_K.pb (the layout of ONNX's backend
tests, so tests/conformance's program runs them). Expected outputs come
from independent implementations:
  - GridSample: PyTorch 1.13's F.grid_sample, whose definition ONNX opset 16
    adopted; every mode x padding_mode x align_corners, grid points outside
    [-1, 1] and exact ties for nearest's round-half-to-even.
  - RoiAlign: ONNX Runtime (tests/exec/ort_run.js), the implementation
    ONNX's own test data comes from (its max mode takes the maximum of the
    weighted bilinear taps); avg mode is cross-checked against
    torchvision.ops.roi_align. Rois lie partly outside the image.
  - NonMaxSuppression: ONNX Runtime: several batches and classes, score
    threshold, max_output 0 / small / absent, center_point_box 1, score ties,
    IoU exactly at the threshold, and NaN boxes (kept, never suppressing).
The committed data was made with torch 1.13, torchvision 0.14 and
onnxruntime-node 1.30.0; runs the C tests need neither.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from onnx import TensorProto, helper

import case_writer

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "vision", "node")
rng = np.random.default_rng(20261127)


def make_model(node, inputs, outputs, opset):
    """inputs: list of (name, array); outputs: list of (name, elem_type)."""
    return case_writer.make_model([node], case_writer.tensor_infos(inputs),
                                  [helper.make_tensor_value_info(n, t, None) for n, t in outputs],
                                  name=node.op_type, opset=opset, ir_version=8, check=False)


# ---- GridSample: PyTorch ----

def grid_points(n, ho, wo):
    """Normalised points, about a third outside [-1, 1], plus exact values:
    the corners, and -0.5 / 0 / 0.5, which for W = 4 without align_corners
    land on pixel coordinates 0.5 / 1.5 / 2.5 (nearest's ties)."""
    g = rng.uniform(-1.7, 1.7, (n, ho, wo, 2)).astype(np.float32)
    exact = np.array([[-1, -1], [1, 1], [-0.5, 0.5], [0, 0], [0.5, -0.5], [-1, 1], [1.5, -2.25], [0.5, 0]],
                     np.float32)
    g.reshape(-1, 2)[:len(exact)] = exact
    return g


x_gs = rng.standard_normal((2, 2, 3, 4)).astype(np.float32)
grid = grid_points(2, 3, 4)


def gen_gridsample():
    for mode in ("bilinear", "nearest", "bicubic"):
        for padding in ("zeros", "border", "reflection"):
            for align in (0, 1):
                node = helper.make_node("GridSample", ["X", "grid"], ["Y"], mode=mode, padding_mode=padding,
                                        align_corners=align)
                inputs = [("X", x_gs), ("grid", grid)]
                model = make_model(node, inputs, [("Y", TensorProto.FLOAT)], 16)
                y = F.grid_sample(torch.from_numpy(x_gs), torch.from_numpy(grid), mode=mode, padding_mode=padding,
                                  align_corners=bool(align)).numpy()
                case_writer.write_case(root, f"gridsample_{mode}_{padding}_align{align}", model, inputs, [("Y", y)])


# ---- RoiAlign: ONNX Runtime, avg cross-checked with torchvision ----

x_roi = rng.uniform(-1, 1, (2, 2, 6, 7)).astype(np.float32)
# x1, y1, x2, y2: partly outside (left/top, right/bottom), tiny, reversed-free, whole image.
rois = np.array([[-2.0, -1.5, 3.0, 4.0], [4.0, 2.5, 9.5, 8.0], [1.2, 1.1, 1.6, 1.7], [0.3, 0.6, 6.4, 5.3]],
                np.float32)
batch_indices = np.array([0, 1, 1, 0], np.int64)


def gen_roialign():
    inputs = [("X", x_roi), ("rois", rois), ("batch_indices", batch_indices)]
    for mode in ("avg", "max"):
        for ctm in ("half_pixel", "output_half_pixel"):
            for ratio in (0, 2):
                node = helper.make_node("RoiAlign", ["X", "rois", "batch_indices"], ["Y"], mode=mode,
                                        output_height=3, output_width=2, sampling_ratio=ratio, spatial_scale=0.9,
                                        coordinate_transformation_mode=ctm)
                model = make_model(node, inputs, [("Y", TensorProto.FLOAT)], 16)
                (y,) = case_writer.ort_run(model, inputs)
                if mode == "avg":
                    tv = torchvision.ops.roi_align(
                        torch.from_numpy(x_roi),
                        torch.from_numpy(np.concatenate([batch_indices[:, None].astype(np.float32), rois], 1)),
                        (3, 2), spatial_scale=0.9, sampling_ratio=ratio if ratio else -1,
                        aligned=ctm == "half_pixel").numpy()
                    np.testing.assert_allclose(y, tv, rtol=1e-5, atol=1e-6)
                case_writer.write_case(root, f"roialign_{mode}_{ctm}_ratio{ratio}", model, inputs, [("Y", y)])
    # Opset 10: no coordinate_transformation_mode; behaves as output_half_pixel.
    node = helper.make_node("RoiAlign", ["X", "rois", "batch_indices"], ["Y"], mode="avg", output_height=2,
                            output_width=3, sampling_ratio=0, spatial_scale=1.0)
    model = make_model(node, inputs, [("Y", TensorProto.FLOAT)], 10)
    (y,) = case_writer.ort_run(model, inputs)
    case_writer.write_case(root, "roialign_opset10", model, inputs, [("Y", y)])


# ---- NonMaxSuppression: ONNX Runtime ----

def random_boxes(b, n):
    """[y1, x1, y2, x2] with the corners in either order, clustered so many overlap."""
    centre = rng.uniform(0, 4, (b, n, 2))
    size = rng.uniform(0.5, 2.5, (b, n, 2))
    a, z = centre - size / 2, centre + size / 2
    boxes = np.concatenate([a, z], -1)
    flip = rng.random((b, n)) < 0.3
    boxes[flip] = boxes[flip][:, [2, 3, 0, 1]]
    return boxes.astype(np.float32)


def nms_case(name, boxes, scores, max_output=None, iou=None, score=None, center_point_box=0):
    """Optional inputs given as None are omitted (ONNX's empty input name)."""
    names, inputs = ["boxes", "scores"], [("boxes", boxes), ("scores", scores)]
    optional = [("max_output_boxes_per_class", None if max_output is None else np.array([max_output], np.int64)),
                ("iou_threshold", None if iou is None else np.array([iou], np.float32)),
                ("score_threshold", None if score is None else np.array([score], np.float32))]
    for n, a in optional:
        names.append("" if a is None else n)
        if a is not None:
            inputs.append((n, a))
    while names[-1] == "":
        names.pop()
    node = helper.make_node("NonMaxSuppression", names, ["selected_indices"], center_point_box=center_point_box)
    model = make_model(node, inputs, [("selected_indices", TensorProto.INT64)], 11)
    (y,) = case_writer.ort_run(model, inputs)
    case_writer.write_case(root, f"nms_{name}", model, inputs, [("selected_indices", y)])


def gen_nms():
    boxes = random_boxes(2, 8)
    scores = rng.random((2, 3, 8)).astype(np.float32)
    nms_case("batches_classes", boxes, scores, max_output=3, iou=0.4, score=0.2)
    nms_case("no_score_threshold", boxes, scores, max_output=100, iou=0.3)
    nms_case("max_output_1", boxes, scores, max_output=1, iou=0.5, score=0.1)
    nms_case("max_output_0", boxes, scores, max_output=0, iou=0.5)
    nms_case("max_output_absent", boxes, scores)
    nms_case("iou_absent", boxes, scores, max_output=5)
    # [xc, yc, w, h]
    centre = np.concatenate([rng.uniform(0, 4, (1, 10, 2)), rng.uniform(0.5, 2.5, (1, 10, 2))], -1)
    nms_case("center_point_box", centre.astype(np.float32), rng.random((1, 2, 10)).astype(np.float32),
             max_output=4, iou=0.35, score=0.05, center_point_box=1)
    # Ties: equal scores keep the lower index first; IoU exactly 0.5 (box 1
    # is half of box 0, box 2 a third of box 3) does not suppress at 0.5.
    tie_boxes = np.array([[[0, 0, 2, 2], [0, 0, 1, 2], [5, 5, 6, 8], [5, 5, 8, 8], [0, 0, 2, 2], [9, 9, 10, 10]]],
                         np.float32)
    tie_scores = np.array([[[0.5, 0.9, 0.7, 0.7, 0.5, 0.7]]], np.float32)
    nms_case("ties", tie_boxes, tie_scores, max_output=10, iou=0.5)
    nms_case("ties_below", tie_boxes, tie_scores, max_output=10, iou=0.49)
    # NaN coordinates: such a box is selected on its score but never
    # suppresses another nor is suppressed.
    nan_boxes = tie_boxes.copy()
    nan_boxes[0, 1, 2] = np.nan
    nan_boxes[0, 4, 0] = np.inf
    nms_case("nan_boxes", nan_boxes, tie_scores, max_output=10, iou=0.3, score=0.0)


def main():
    case_writer.regenerate(root, gen_gridsample, gen_roialign, gen_nms)


main()
