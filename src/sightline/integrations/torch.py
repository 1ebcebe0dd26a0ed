"""A PyTorch forward hook: every forward pass of a module logs its inputs and outputs.

``handle = monitor_module(model, monitor)``; ``handle.remove()`` stops it. The first
input must be a 2-D tensor (rows x features, in the schema's feature order); an output of
shape (n,) or (n, 1) is logged as the prediction, (n, k) as its argmax. A version the
collector does not know is registered from the first passes (features ``x0``, ``x1``, ...,
and ``prediction``). A pass that cannot be logged is counted in ``stats()["watch_errors"]``
(the first one logged at WARNING); it never reaches the caller.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from sightline.sdk.monitor import Monitor


class _Hook:
    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self.local = threading.local()  # each serving thread times its own forward pass

    def before(self, module: Any, inputs: Any) -> None:
        self.local.started = time.perf_counter()

    def after(self, module: Any, inputs: Any, output: Any) -> None:
        try:
            x = inputs[0].detach().cpu().numpy()
            y = output.detach().cpu().numpy()
            if x.ndim == 1:
                x = x[None, :]
            preds = y.reshape(-1) if y.ndim == 1 or y.shape[-1] == 1 else y.argmax(axis=-1)
            per_row = (time.perf_counter() - self.local.started) * 1000 / max(len(x), 1)
            self.monitor.log_batch(
                x,  # columns: the schema's features in order
                predictions=np.asarray(preds, dtype=np.float64).tolist(),
                latency_ms=[per_row] * len(x),
            )
        except Exception as exc:  # monitoring trouble never reaches the caller
            self.monitor.count_watch_error(exc)


class HookHandle:
    """Both hooks of :func:`monitor_module`; :meth:`remove` detaches them."""

    def __init__(self, handles: list[Any]) -> None:
        self._handles = handles

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def monitor_module(module: Any, monitor: Monitor) -> HookHandle:
    """Log every forward pass of ``module`` (a ``torch.nn.Module``) through ``monitor``."""
    hook = _Hook(monitor)
    return HookHandle(
        [module.register_forward_pre_hook(hook.before), module.register_forward_hook(hook.after)]
    )
