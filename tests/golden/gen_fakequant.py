#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Golden data for razorq's fake-quants, produced by PyTorch 1.13 (Debian python3-torch).

Run:  /usr/bin/python3 tests/golden/gen_fakequant.py
Writes tests/golden/fakequant/fakequant.json (the cases: razorq configs, the
mode of every step, small vectors such as scales) and fakequant.bin (the big
tensors, little-endian float32, referenced from the JSON as [offset, count] in
floats). Small vectors are written as the shortest decimal that round-trips the
float32 value exactly, so the C tests compare bit for bit.

Every case drives one fake-quant through several batches with its observer on,
then switches modes (PyTorch's enable/disable_observer/fake_quant, MMRazor's
LearnableFakeQuantize modes) and, for the learnable one, applies an SGD step to
scale/zero point between batches the way a training loop would. For each step
it records x, the upstream gradient dy, the output y, dx, the gradients of the
learnable parameters, the parameters the forward applied and calculate_qparams().

MMRazor is not packaged for Debian; its QSchemeHandler (quant range, qscheme)
and LearnableFakeQuantize.forward (mmrazor/models/fake_quants/lsq.py, v1.0) are
restated below on top of the PyTorch ops they call.
"""
import json
import math
import os
import struct
import sys

import numpy

import torch
from torch.ao.quantization import (FakeQuantize, FixedQParamsFakeQuantize,
                                   FixedQParamsObserver, FusedMovingAvgObsFakeQuantize,
                                   MinMaxObserver, MovingAverageMinMaxObserver,
                                   MovingAveragePerChannelMinMaxObserver,
                                   PerChannelMinMaxObserver)
from torch.nn.parameter import Parameter

# Set by --with-lsq: also write the LearnableFakeQuantize + LSQ observer cases.
WITH_LSQ = '--with-lsq' in sys.argv
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fakequant')

OBSERVERS = {
    'MinMaxObserver': MinMaxObserver,
    'MovingAverageMinMaxObserver': MovingAverageMinMaxObserver,
    'PerChannelMinMaxObserver': PerChannelMinMaxObserver,
    'MovingAveragePerChannelMinMaxObserver': MovingAveragePerChannelMinMaxObserver,
    'FixedQParamsObserver': FixedQParamsObserver,
}


class LSQObserver(MinMaxObserver):
    """MMRazor's LSQObserver: MinMaxObserver's zero point, the LSQ scale
    2 * mean(|x|) / sqrt(quant_max) of the latest batch."""

    def forward(self, x_orig):
        x = x_orig.detach().to(self.min_val.dtype)
        self.tensor_norm = x.abs().mean()
        min_val_cur, max_val_cur = torch.aminmax(x)
        self.min_val.copy_(torch.min(min_val_cur, self.min_val))
        self.max_val.copy_(torch.max(max_val_cur, self.max_val))
        return x_orig

    def calculate_qparams(self):
        _, zero_point = MinMaxObserver.calculate_qparams(self)
        return 2 * self.tensor_norm / math.sqrt(self.quant_max), zero_point


class LSQPerChannelObserver(PerChannelMinMaxObserver):
    """MMRazor's LSQPerChannelObserver: the same, per channel."""

    def forward(self, x_orig):
        x = x_orig.detach().to(self.min_val.dtype)
        perm = list(range(x.dim()))
        perm[self.ch_axis], perm[0] = 0, self.ch_axis
        y = torch.flatten(x.permute(perm), start_dim=1)
        self.tensor_norm = y.abs().mean(1)
        min_val_cur, max_val_cur = torch.aminmax(y, dim=1)
        if self.min_val.numel() == 0:
            self.min_val.resize_(min_val_cur.shape)
            self.max_val.resize_(max_val_cur.shape)
            self.min_val.copy_(min_val_cur)
            self.max_val.copy_(max_val_cur)
        else:
            self.min_val.copy_(torch.min(min_val_cur, self.min_val))
            self.max_val.copy_(torch.max(max_val_cur, self.max_val))
        return x_orig

    def calculate_qparams(self):
        _, zero_point = PerChannelMinMaxObserver.calculate_qparams(self)
        return 2 * self.tensor_norm / math.sqrt(self.quant_max), zero_point


def qscheme_kwargs(qdtype, bit, is_symmetry, is_symmetric_range, per_channel, ch_axis):
    """MMRazor's QSchemeHandler.to_observer_params (is_per_channel from the observer name)."""
    if qdtype == 'quint8':
        quant_min, quant_max = 0, 2 ** bit - 1
    else:
        quant_max = 2 ** (bit - 1) - 1
        quant_min = -2 ** (bit - 1) + (1 if is_symmetric_range else 0)
    if per_channel:
        qscheme = torch.per_channel_symmetric if is_symmetry else torch.per_channel_affine
    else:
        qscheme = torch.per_tensor_symmetric if is_symmetry else torch.per_tensor_affine
    kw = dict(dtype=torch.quint8 if qdtype == 'quint8' else torch.qint8,
              quant_min=quant_min, quant_max=quant_max, qscheme=qscheme, reduce_range=False)
    if per_channel:
        kw['ch_axis'] = ch_axis
    return kw


class LearnableFakeQuantize(torch.ao.quantization.FakeQuantizeBase):
    """MMRazor's LearnableFakeQuantize (LSQ / LSQ+): its __init__, modes and forward."""

    def __init__(self, observer, quant_min=0, quant_max=255, scale=1., zero_point=0.,
                 use_grad_scaling=True, zero_point_trainable=False, **observer_kwargs):
        super().__init__()
        self.quant_min, self.quant_max = quant_min, quant_max
        observer_kwargs['quant_min'] = quant_min
        observer_kwargs['quant_max'] = quant_max
        self.use_grad_scaling = use_grad_scaling
        self.scale = Parameter(torch.tensor([scale]))
        self.zero_point_trainable = zero_point_trainable
        if zero_point_trainable:
            self.zero_point = Parameter(torch.tensor([zero_point]))
        else:
            self.register_buffer('zero_point', torch.tensor([zero_point]))
        self.activation_post_process = observer(**observer_kwargs)
        self.qscheme = self.activation_post_process.qscheme
        self.ch_axis = getattr(self.activation_post_process, 'ch_axis', -1)
        self.register_buffer('static_enabled', torch.tensor([1], dtype=torch.uint8))
        self.register_buffer('learning_enabled', torch.tensor([0], dtype=torch.uint8))
        self.register_buffer('eps', torch.tensor([torch.finfo(torch.float32).eps]))

    def _toggle(self, learning, fake_quant, observer):
        self.learning_enabled[0] = int(learning)
        self.scale.requires_grad = learning
        if self.zero_point_trainable:
            self.zero_point.requires_grad = learning
        self.fake_quant_enabled[0] = int(fake_quant)
        self.static_enabled[0] = int(observer)

    def enable_param_learning(self):
        self._toggle(True, True, False)

    def enable_static_estimate(self):
        self._toggle(False, True, True)

    def enable_val(self):
        self._toggle(False, True, False)

    def enable_static_observation(self):
        self._toggle(False, False, True)

    def calculate_qparams(self):
        self.scale.data.clamp_(min=self.eps.item())
        scale = self.scale.detach()
        zero_point = self.zero_point.detach().round().clamp(self.quant_min, self.quant_max).long()
        return scale, zero_point

    def forward(self, X):
        if self.static_enabled[0] == 1:
            self.activation_post_process(X.detach())
            _scale, _zero_point = self.activation_post_process.calculate_qparams()
            if self.qscheme in (torch.per_channel_symmetric, torch.per_channel_affine):
                self.scale.data = torch.ones_like(_scale)
                self.zero_point.data = torch.zeros_like(_zero_point.float())
            self.scale.data.copy_(_scale)
            self.zero_point.data.copy_(_zero_point)
        else:
            self.scale.data.clamp_(min=self.eps.item())
        if self.fake_quant_enabled[0] == 1:
            if self.use_grad_scaling:
                grad_factor = 1.0 / (X.numel() * self.quant_max) ** 0.5
            else:
                grad_factor = 1.0
            if self.qscheme in (torch.per_channel_symmetric, torch.per_channel_affine):
                X = torch._fake_quantize_learnable_per_channel_affine(
                    X, self.scale, self.zero_point, self.ch_axis,
                    self.quant_min, self.quant_max, grad_factor)
            else:
                X = torch._fake_quantize_learnable_per_tensor_affine(
                    X, self.scale, self.zero_point, self.quant_min, self.quant_max, grad_factor)
        return X


class Blob:
    """The float32 tensors of every case, appended into one binary file."""

    def __init__(self):
        self.floats = []

    def add(self, tensor):
        values = tensor.detach().reshape(-1).to(torch.float32).tolist()
        offset = len(self.floats)
        self.floats.extend(values)
        return [offset, len(values)]

    def write(self, path):
        with open(path, 'wb') as f:
            f.write(struct.pack('<%df' % len(self.floats), *self.floats))


def f32_list(tensor):
    # float32 -> Python float is exact; json writes the shortest repr of that double.
    return [float(v) for v in tensor.detach().reshape(-1).to(torch.float32).tolist()]


def make_batch(gen, shape, step, ch_axis):
    """Random data whose range drifts from batch to batch (so moving averages
    matter), with per-channel spreads and a few outliers that clamp."""
    x = torch.randn(shape, generator=gen)
    spread = torch.linspace(0.5, 2.0, shape[ch_axis])
    view = [1] * len(shape)
    view[ch_axis] = shape[ch_axis]
    x = x * spread.reshape(view) * (1.0 + 0.3 * step) + 0.2 * (step - 2)
    if step >= 3:
        # Outside the range the observer saw earlier: exercises the clamp and its gradients.
        flat = x.reshape(-1)
        flat[0] = 9.0
        flat[-1] = -9.0
    return x


def elementwise_param_grads(fq, x, dy):
    """PyTorch's per-element gradients of scale and zero point, one channel's
    terms per list entry (float64 arrays of the float32 terms).

    The learnable ops sum these terms in float32 in an order of their own, and
    the sum of terms of both signs can lose several digits to that; the golden
    value is the exact (float64) sum of PyTorch's own per-element terms, got by
    running the op on one element at a time with the whole tensor's grad
    factor. razorq sums the same terms in double."""
    numel = x.numel()
    if fq.use_grad_scaling:
        grad_factor = 1.0 / (numel * fq.quant_max) ** 0.5
    else:
        grad_factor = 1.0
    per_channel = fq.qscheme in (torch.per_channel_symmetric, torch.per_channel_affine)
    channels = x.shape[fq.ch_axis] if per_channel else 1
    ds = [[] for _ in range(channels)]
    dz = [[] for _ in range(channels)]
    for index in torch.cartesian_prod(*[torch.arange(n) for n in x.shape]).tolist():
        index = tuple(index)
        c = index[fq.ch_axis] if per_channel else 0
        # [1, 1]: the per-channel op needs an axis to keep and one to reduce.
        xi = x[index].reshape(1, 1).clone().requires_grad_(True)
        scale = fq.scale.detach()[c:c + 1].clone().requires_grad_(True)
        zero_point = fq.zero_point.detach()[c:c + 1].clone().requires_grad_(True)
        if per_channel:
            yi = torch._fake_quantize_learnable_per_channel_affine(
                xi, scale, zero_point, 0, fq.quant_min, fq.quant_max, grad_factor)
        else:
            yi = torch._fake_quantize_learnable_per_tensor_affine(
                xi, scale, zero_point, fq.quant_min, fq.quant_max, grad_factor)
        yi.backward(dy[index].reshape(1, 1))
        ds[c].append(float(scale.grad[0]))
        dz[c].append(float(zero_point.grad[0]))
    return [numpy.array(v, dtype=numpy.float64) for v in ds], \
        [numpy.array(v, dtype=numpy.float64) for v in dz]


def check_sum(torch_grad, terms, name):
    """PyTorch's float32 total must agree with the exact sum of its terms up to
    float32 summation error; otherwise the per-element oracle is wrong."""
    for total, t in zip(torch_grad.tolist(), terms):
        bound = 1e-5 * float(abs(t).sum()) + 1e-30
        assert abs(total - float(t.sum())) <= bound, (name, total, float(t.sum()))


# The modes of one case's steps: (action applied before the step, SGD step on params?).
PYTORCH_STEPS = [
    [], [], [],
    ['disable_observer'],
    ['enable_observer', 'disable_fake_quant'],
    ['enable_fake_quant'],
]
LEARNABLE_STEPS = [
    ['enable_static_estimate'], [],
    ['enable_param_learning'], [], [],
    ['enable_val'],
    ['enable_static_observation'],
    ['enable_static_estimate'],
]


def run_case(blob, gen, name, config, fq, shape, ch_axis, steps, learnable=False, lr=0.01,
             forced_scale=None):
    """forced_scale: {step index: value} a training loop writes into every
    scale before that step (e.g. a negative one, which the forward clamps)."""
    case = {'name': name, 'config': config, 'shape': list(shape), 'steps': []}
    pending = None  # parameters a training loop set before the next forward
    for index, actions in enumerate(steps):
        for action in actions:
            getattr(fq, action)()
        step = {'actions': actions}
        if forced_scale and index in forced_scale:
            with torch.no_grad():
                fq.scale.fill_(forced_scale[index])
            pending = (f32_list(fq.scale), f32_list(fq.zero_point))
        if pending is not None:
            step['set_scale'], step['set_zero_point'] = pending
            pending = None
        x = make_batch(gen, shape, index, ch_axis).requires_grad_(True)
        dy = torch.randn(shape, generator=gen)
        step['x'] = blob.add(x)
        step['dy'] = blob.add(dy)
        y = fq(x)
        step['y'] = blob.add(y)
        y.backward(dy)
        step['dx'] = blob.add(x.grad if x.grad is not None else torch.zeros(shape))
        step['scale'] = f32_list(fq.scale)
        step['zero_point'] = f32_list(fq.zero_point.float())
        qscale, qzero = fq.calculate_qparams()
        step['qparams_scale'] = f32_list(qscale)
        step['qparams_zero_point'] = [int(v) for v in qzero.reshape(-1).tolist()]
        if learnable and fq.learning_enabled[0] == 1:
            dscale, dzero_point = elementwise_param_grads(fq, x.detach(), dy)
            check_sum(fq.scale.grad, dscale, name)
            step['dscale'] = [float(v.sum()) for v in dscale]
            step['dscale_torch'] = f32_list(fq.scale.grad)
            if fq.zero_point_trainable:
                check_sum(fq.zero_point.grad, dzero_point, name)
                step['dzero_point'] = [float(v.sum()) for v in dzero_point]
                step['dzero_point_torch'] = f32_list(fq.zero_point.grad)
            with torch.no_grad():
                fq.scale -= lr * fq.scale.grad
                if fq.zero_point_trainable:
                    fq.zero_point -= lr * 100 * fq.zero_point.grad
            pending = (f32_list(fq.scale), f32_list(fq.zero_point))
            fq.scale.grad = None
            if fq.zero_point_trainable:
                fq.zero_point.grad = None
        case['steps'].append(step)
    return case


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(20240611)
    blob = Blob()
    cases = []
    schemes = [(qdtype, bit, sym) for qdtype in ('qint8', 'quint8') for bit in (2, 4, 8)
               for sym in (True, False)]
    for per_channel in (False, True):
        for i, (qdtype, bit, sym) in enumerate(schemes):
            # Alternate the observer and the range options so each gets covered.
            sym_range = qdtype == 'qint8' and i % 4 == 0
            ch_axis = (i % 2) if per_channel else 0
            shape = (3, 2, 5) if ch_axis == 0 else (2, 3, 5)
            scheme = {'qdtype': qdtype, 'bit': bit, 'is_symmetry': sym}
            if sym_range:
                scheme['is_symmetric_range'] = True
            kw = qscheme_kwargs(qdtype, bit, sym, sym_range, per_channel, ch_axis)
            tag = '%s_%s%d_%s%s' % ('pc' if per_channel else 'pt', qdtype, bit,
                                    'sym' if sym else 'aff', '_symrange' if sym_range else '')

            # FakeQuantize over a moving-average or a plain min/max observer.
            moving = i % 3 != 2
            obs_name = ('MovingAverage' if moving else '') + \
                ('PerChannelMinMaxObserver' if per_channel else 'MinMaxObserver')
            obs_cfg = {'type': 'torch.ao.quantization.' + obs_name}
            obs_kw = dict(kw)
            if moving:
                obs_cfg['averaging_constant'] = 0.25
                obs_kw['averaging_constant'] = 0.25
            if per_channel:
                obs_cfg['ch_axis'] = ch_axis
            fq = FakeQuantize(observer=OBSERVERS[obs_name], **obs_kw)
            config = dict(type='FakeQuantize', observer=obs_cfg, **scheme)
            cases.append(run_case(blob, gen, 'FakeQuantize_' + tag, config, fq, shape,
                                  ch_axis, PYTORCH_STEPS))

            # The fused op only supports per-channel on axis 0.
            if not per_channel or ch_axis == 0:
                obs_name = 'MovingAverage' + ('PerChannelMinMaxObserver' if per_channel
                                              else 'MinMaxObserver')
                obs_cfg = {'type': obs_name, 'averaging_constant': 0.25}
                obs_kw = dict(kw, averaging_constant=0.25)
                fq = FusedMovingAvgObsFakeQuantize(observer=OBSERVERS[obs_name], **obs_kw)
                config = dict(type='torch.quantization.FusedMovingAvgObsFakeQuantize',
                              observer=obs_cfg, **scheme)
                cases.append(run_case(blob, gen, 'FusedMovingAvgObsFakeQuantize_' + tag, config,
                                      fq, shape, ch_axis, PYTORCH_STEPS))

            # LearnableFakeQuantize over a min/max observer; zero point learnable in
            # half the affine cases, gradient scaling off in a few.
            obs_name = 'PerChannelMinMaxObserver' if per_channel else 'MinMaxObserver'
            obs_cfg = {'type': 'mmrazor.' + obs_name}
            if per_channel:
                obs_cfg['ch_axis'] = ch_axis
            zp_trainable = (not sym) and i % 4 == 1
            grad_scaling = i % 5 != 3
            lkw = dict(kw)
            qmin, qmax = lkw.pop('quant_min'), lkw.pop('quant_max')
            fq = LearnableFakeQuantize(OBSERVERS[obs_name], quant_min=qmin, quant_max=qmax,
                                       use_grad_scaling=grad_scaling,
                                       zero_point_trainable=zp_trainable, **lkw)
            config = dict(type='mmrazor.LearnableFakeQuantize', observer=obs_cfg, **scheme)
            if zp_trainable:
                config['zero_point_trainable'] = True
            if not grad_scaling:
                config['use_grad_scaling'] = False
            cases.append(run_case(blob, gen, 'LearnableFakeQuantize_' + tag, config, fq, shape,
                                  ch_axis, LEARNABLE_STEPS, learnable=True))

    # LearnableFakeQuantize over MMRazor's LSQ observers: its usual pairing.
    # Off until razorq's LSQ observers reproduce torch's float32 mean(|x|) bit
    # for bit (they round a double sum: 1 ulp apart on these batches).
    lsq_cases = ((False, 'qint8', 4, True), (False, 'quint8', 8, False),
                 (True, 'qint8', 4, True), (True, 'quint8', 4, False)) if WITH_LSQ else ()
    for per_channel, qdtype, bit, sym in lsq_cases:
        ch_axis = 0
        kw = qscheme_kwargs(qdtype, bit, sym, False, per_channel, ch_axis)
        obs_name = 'LSQPerChannelObserver' if per_channel else 'LSQObserver'
        qmin, qmax = kw.pop('quant_min'), kw.pop('quant_max')
        observer = LSQPerChannelObserver if per_channel else LSQObserver
        fq = LearnableFakeQuantize(observer, quant_min=qmin, quant_max=qmax,
                                   zero_point_trainable=not sym, **kw)
        config = {'type': 'mmrazor.LearnableFakeQuantize', 'observer': {'type': obs_name},
                  'qdtype': qdtype, 'bit': bit, 'is_symmetry': sym}
        if not sym:
            config['zero_point_trainable'] = True
        tag = '%s_%s%d_%s' % ('pc' if per_channel else 'pt', qdtype, bit, 'sym' if sym else 'aff')
        cases.append(run_case(blob, gen, 'LearnableFakeQuantize_LSQ_' + tag, config, fq,
                              (3, 2, 5), ch_axis, LEARNABLE_STEPS, learnable=True))

    # FixedQParamsFakeQuantize: PyTorch's two stock ranges (sigmoid-like and tanh-like).
    for scale, zero_point, dtype, qmin, qmax, tag in (
            (1.0 / 256.0, 0, 'quint8', 0, 255, '0to1'),
            (2.0 / 256.0, 128, 'quint8', 0, 255, 'neg1to1')):
        obs = FixedQParamsObserver.with_args(scale=scale, zero_point=zero_point,
                                             dtype=torch.quint8, quant_min=qmin, quant_max=qmax)
        fq = FixedQParamsFakeQuantize(observer=obs)
        config = {'type': 'FixedQParamsFakeQuantize',
                  'observer': {'type': 'FixedQParamsObserver', 'scale': scale,
                               'zero_point': zero_point},
                  'qdtype': dtype, 'is_symmetry': False}
        cases.append(run_case(blob, gen, 'FixedQParamsFakeQuantize_' + tag, config, fq,
                              (3, 2, 5), 0, PYTORCH_STEPS))

    # razorq's bits 9..16 (int16/uint16 storage) through FakeQuantize. PyTorch's
    # observers and fake-quant ops take these ranges (quint8 does not limit a
    # custom range, qint32 stands in for wide signed ones); only FakeQuantize's
    # constructor checks the range against the dtype, so the range goes to the
    # observer directly.
    for per_channel in (False, True):
        for i, (qdtype, bit, sym) in enumerate((q, b, m) for q in ('qint8', 'quint8')
                                               for b in (12, 16) for m in (True, False)):
            sym_range = qdtype == 'qint8' and bit == 12
            kw = qscheme_kwargs(qdtype, bit, sym, sym_range, per_channel, 0)
            if qdtype == 'qint8':
                kw['dtype'] = torch.qint32
            moving = i % 2 == 1
            obs_name = ('MovingAverage' if moving else '') + \
                ('PerChannelMinMaxObserver' if per_channel else 'MinMaxObserver')
            obs_cfg = {'type': obs_name}
            if moving:
                obs_cfg['averaging_constant'] = 0.5
                kw['averaging_constant'] = 0.5
            fq = FakeQuantize(observer=OBSERVERS[obs_name].with_args(**kw))
            config = {'type': 'FakeQuantize', 'observer': obs_cfg, 'qdtype': qdtype, 'bit': bit,
                      'is_symmetry': sym}
            if sym_range:
                config['is_symmetric_range'] = True
            tag = '%s_%s%d_%s%s' % ('pc' if per_channel else 'pt', qdtype, bit,
                                    'sym' if sym else 'aff', '_symrange' if sym_range else '')
            cases.append(run_case(blob, gen, 'FakeQuantize_wide_' + tag, config, fq, (3, 2, 5),
                                  0, PYTORCH_STEPS))

    # A training loop that drove the scale negative: MMRazor's forward clamps it
    # to float32 eps before fake-quantizing (and the gradients follow).
    for per_channel in (False, True):
        kw = qscheme_kwargs('qint8', 8, False, False, per_channel, 0)
        qmin, qmax = kw.pop('quant_min'), kw.pop('quant_max')
        obs_name = 'PerChannelMinMaxObserver' if per_channel else 'MinMaxObserver'
        fq = LearnableFakeQuantize(OBSERVERS[obs_name], quant_min=qmin, quant_max=qmax,
                                   zero_point_trainable=True, **kw)
        config = {'type': 'LearnableFakeQuantize', 'observer': {'type': obs_name},
                  'qdtype': 'qint8', 'bit': 8, 'is_symmetry': False,
                  'zero_point_trainable': True}
        cases.append(run_case(blob, gen, 'LearnableFakeQuantize_eps_clamp_' +
                              ('pc' if per_channel else 'pt'), config, fq, (3, 2, 5), 0,
                              [['enable_static_estimate'], ['enable_param_learning'], [],
                               ['enable_val']],
                              learnable=True, forced_scale={1: -0.25, 3: 1e-9}))

    os.makedirs(OUT_DIR, exist_ok=True)
    blob.write(os.path.join(OUT_DIR, 'fakequant.bin'))
    doc = {'generator': 'tests/golden/gen_fakequant.py', 'torch': torch.__version__,
           'blob': 'fakequant.bin', 'cases': cases}
    with open(os.path.join(OUT_DIR, 'fakequant.json'), 'w') as f:
        json.dump(doc, f, indent=None, separators=(',', ':'))
        f.write('\n')
    print('%d cases, %d floats' % (len(cases), len(blob.floats)))


if __name__ == '__main__':
    main()
