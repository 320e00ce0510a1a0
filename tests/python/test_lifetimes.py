# SPDX-License-Identifier: Apache-2.0
"""Handles are freed exactly once: by close(), `with`, or garbage collection;
borrowed objects never free and keep their owner alive. The oracle is the
library's own allocation counter (rq_memory_in_use)."""
import gc
import os

import numpy as np

import razorq

DATA = os.path.join(os.environ["RAZORQ_SOURCE_ROOT"], "tests", "data")


def everything():
    """One of each object, with borrowed ones, used once."""
    g = razorq.Graph.load(os.path.join(DATA, "digits_cnn.onnx"))
    x = np.load(os.path.join(DATA, "digits_calib_x.npy"))[:32]
    g.run(x, hook=lambda n, v: None)
    q = razorq.Quantizer(razorq.example_config("tensorrt"))
    s = q.prepare(g)
    s.calibrate(x)
    s.convert()
    s.run(x)
    fq = s.points[0].fake_quant
    obs = fq.observer
    backend = q.backend
    own = razorq.FakeQuant({"type": "FakeQuantize"})
    own.forward(x)
    saved = razorq.Observer.load(own.observer.save())
    return [g, q, s, fq, obs, backend, own, saved, razorq.BackendConfig("openvino"), s.graph]


def test_garbage_collection_frees_everything():
    gc.collect()
    baseline = razorq.memory_in_use()
    objects = everything()
    assert razorq.memory_in_use() > baseline
    del objects
    gc.collect()
    assert razorq.memory_in_use() == baseline


def test_close_in_any_order_frees_everything_once():
    gc.collect()
    baseline = razorq.memory_in_use()
    objects = everything()
    for obj in objects:  # owners before what they lent
        obj.close()
        obj.close()  # idempotent
    assert razorq.memory_in_use() == baseline
    objects = everything()
    for obj in reversed(objects):
        obj.close()
    assert razorq.memory_in_use() == baseline


def test_borrowed_objects_outlive_their_owners_reference():
    gc.collect()
    baseline = razorq.memory_in_use()
    obs = everything()[4]  # a session fake-quant's observer: keeps fake-quant and session alive
    gc.collect()
    assert obs.type_name and razorq.memory_in_use() > baseline
    del obs
    gc.collect()
    assert razorq.memory_in_use() == baseline


def test_with_blocks_free_on_exit():
    baseline = razorq.memory_in_use()
    with razorq.Graph.load(os.path.join(DATA, "digits_mlp.onnx")) as g, \
            razorq.Quantizer(razorq.example_config("openvino")) as q, q.prepare(g) as s:
        assert s.points
    assert razorq.memory_in_use() == baseline
