#!/usr/bin/env python3
"""Counts the denormal and zero float32 values in tfmath parameter-state files (.params): every
parameter tensor and optimizer slot. Needs pycapnp from PyPI (pip install pycapnp); not for CI.

  python3 bench/count_denormals.py before.params after.params
"""
import os
import capnp, numpy as np, sys
capnp.remove_import_hook()
proto = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'proto')
s = capnp.load(os.path.join(proto, 'params.capnp'), imports=['/usr/include', proto])
for path in sys.argv[1:]:
    with open(path, 'rb') as f:
        st = s.ParameterState.read(f, traversal_limit_in_words=1<<30)
        def count(tensors, what):
            for t in tensors:
                a = np.frombuffer(t.data, dtype='<f4')
                d = np.sum((a != 0) & (np.abs(a) < np.finfo(np.float32).tiny))
                z = np.sum(a == 0)
                print(f'{path} {what} {t.name}: {a.size} values, {d} denormal, {z} zero')
        count(st.tensors, 'param')
        count(st.optimizerSlots, 'slot')
