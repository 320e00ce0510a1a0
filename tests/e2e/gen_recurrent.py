#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A small recurrent model for the end-to-end tests: Conv1d -> ReLU ->
bidirectional LSTM -> GRU -> Linear, exported by PyTorch 1.13's ONNX
exporter (so the LSTM/GRU nodes, their gate layout and the Shape/Gather
plumbing around them are what real exports contain), with random weights
and random data; the labels are the float model's own predictions.

Usage: /usr/bin/python3 tests/e2e/gen_recurrent.py
Writes tests/data/recurrent/{seq_rnn.onnx, calib_x.npy, test_x.npy, test_y.npy}.
"""
import os
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "recurrent")


class SeqModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(8, 16, 3, padding=1)
        self.lstm = torch.nn.LSTM(16, 12, batch_first=True, bidirectional=True)
        self.gru = torch.nn.GRU(24, 12, batch_first=True)
        self.fc = torch.nn.Linear(12, 5)

    def forward(self, x):  # x [batch, 8 features, 10 steps]
        h = torch.relu(self.conv(x)).transpose(1, 2)
        h, _ = self.lstm(h)
        h, _ = self.gru(h)
        return self.fc(h[:, -1])


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    model = SeqModel().eval()
    calib = torch.randn(96, 8, 10)
    test = torch.randn(256, 8, 10)
    torch.onnx.export(model, calib[:1], os.path.join(OUT, "seq_rnn.onnx"), input_names=["x"],
                      output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=13)
    with torch.no_grad():
        labels = model(test).argmax(1).numpy().astype(np.int64)
    np.save(os.path.join(OUT, "calib_x.npy"), calib.numpy())
    np.save(os.path.join(OUT, "test_x.npy"), test.numpy())
    np.save(os.path.join(OUT, "test_y.npy"), labels)


if __name__ == "__main__":
    main()
