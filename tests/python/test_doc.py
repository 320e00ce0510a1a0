# SPDX-License-Identifier: Apache-2.0
"""The Python code in doc/python.md runs as written (from the source root's
point of view: it reads tests/data/...)."""
import os
import re

import razorq

SOURCE = os.environ["RAZORQ_SOURCE_ROOT"]


def doc_blocks():
    with open(os.path.join(SOURCE, "doc", "python.md")) as f:
        text = f.read()
    # Top-level blocks only (the indented ones show a module's internals).
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def test_the_tutorial_runs(tmp_path, monkeypatch, capsys):
    blocks = doc_blocks()
    assert len(blocks) >= 2
    os.symlink(os.path.join(SOURCE, "tests"), tmp_path / "tests")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    # Later blocks build on the tutorial's variables (x), as a reader would run them.
    for block in blocks:
        exec(compile(block, "doc/python.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "note:" in out
    assert (tmp_path / "digits_mlp.qdq.onnx").exists() and (tmp_path / "digits_mlp.rqcal").exists()
    assert (namespace["q_logits"].argmax(1) == namespace["logits"].argmax(1)).mean() > 0.95


def test_the_commented_outputs_are_what_the_library_says():
    g = razorq.Graph.load(os.path.join(SOURCE, "tests", "data", "digits_mlp.onnx"))
    block = doc_blocks()[0]
    assert "# %r" % (g.inputs,) in block
    assert "# %r" % (g.ops,) in block
