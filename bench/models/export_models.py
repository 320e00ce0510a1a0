#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Exports the model-level benchmark networks to ONNX.

Usage: /usr/bin/python3 bench/models/export_models.py OUT_DIR

Writes OUT_DIR/resnet18.onnx and OUT_DIR/mobilenet_v2.onnx: torchvision's
ResNet-18 and MobileNetV2 with random weights (seeded, so every run writes
the same models), in eval mode (BatchNorm uses its running statistics),
opset 13, input "input" [batch, 3, 224, 224] with a symbolic batch. The
files are large (45 MB and 14 MB), so they are made on demand, not
committed. Needs Debian's python3-torchvision.
"""
import os
import sys

import torch
import torchvision

MODELS = {
    "resnet18": torchvision.models.resnet18,
    "mobilenet_v2": torchvision.models.mobilenet_v2,
}


def build(name):
    """The eval-mode model with its seeded random weights (what is exported)."""
    torch.manual_seed(0)
    model = MODELS[name](weights=None).eval()
    # Fresh BatchNorms have mean 0 / var 1; random statistics keep the
    # folded scales from being all ones, like a trained model's.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return model


def export(name, out_dir):
    model = build(name)
    path = os.path.join(out_dir, f"{name}.onnx")
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    return path


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[2])
    os.makedirs(sys.argv[1], exist_ok=True)
    for name in MODELS:
        print(export(name, sys.argv[1]))


if __name__ == "__main__":
    main()
