"""An ONNX Runtime session that logs what it infers: ``InferenceSession.run`` wrapped,
for models exported to ONNX and served on edge devices.

``session = monitored_session(session, monitor)``; ``session.run(None, {"x": batch})``
logs the feed of the session's first input (or ``input=`` name) as the features (rows x
features, in the schema's feature order) and the session's first output (or ``output=``
name) as the prediction: an output of shape (n,) or (n, 1) as it is, (n, k) as its argmax.
When ``run`` is asked for outputs without the prediction's, the features are logged
without predictions. ``ids=`` and :attr:`MonitoredSession.last_ids` work as for the
other wrappers. onnxruntime itself is not imported here: the wrapper only calls the
session.

>>> import numpy as np
>>> from sightline.sdk import Monitor
>>> from sightline.profile import Column, Schema
>>> class Port:  # stands in for an onnxruntime.NodeArg in this example
...     def __init__(self, name): self.name = name
>>> class Negate:  # stands in for an onnxruntime.InferenceSession
...     def get_inputs(self): return [Port("x")]
...     def get_outputs(self): return [Port("y")]
...     def run(self, output_names, input_feed, run_options=None):
...         return [-np.asarray(input_feed["x"])[:, :1]]
>>> schema = Schema((Column("a"), Column("y", role="prediction")))
>>> monitor = Monitor("m", "1", url=None, schema=schema)
>>> session = monitored_session(Negate(), monitor)
>>> session.run(None, {"x": np.array([[1.0], [2.0]])})[0].ravel().tolist()
[-1.0, -2.0]
>>> len(session.last_ids)
2
>>> monitor.close()
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from sightline.errors import InvalidInputError
from sightline.integrations._batch import Monitored, check_ids, predictions_of, rows_of
from sightline.sdk.monitor import Monitor


class MonitoredSession(Monitored):
    """Wraps an ``onnxruntime.InferenceSession``: ``run`` logs one input and one output;
    every other attribute is the session's own."""

    def __init__(
        self, session: Any, monitor: Monitor, *, input: str | None = None, output: str | None = None
    ) -> None:
        inputs = [i.name for i in session.get_inputs()]
        outputs = [o.name for o in session.get_outputs()]
        for field, name, names in (("input", input, inputs), ("output", output, outputs)):
            if name is not None and name not in names:
                raise InvalidInputError(
                    f"{field} {name!r} is not one of the session's {field}s: {names}",
                    field=field,
                )
        super().__init__(session, monitor)
        self.session = session
        self.input = input or inputs[0]
        self.output = output or outputs[0]
        self._outputs = outputs

    def run(
        self,
        output_names: Sequence[str] | None,
        input_feed: Mapping[str, Any],
        run_options: Any = None,
        *,
        ids: Sequence[str] | None = None,
    ) -> list[Any]:
        """``session.run(output_names, input_feed, run_options)``, logged."""
        if self.input not in input_feed:
            raise InvalidInputError(
                f"input_feed has no {self.input!r}, the input this session logs; "
                f"got {sorted(input_feed)}",
                field="input_feed",
            )
        x = input_feed[self.input]
        check_ids(ids, len(x))
        started = time.perf_counter()
        results: list[Any] = self.session.run(output_names, input_feed, run_options)
        names = list(output_names) if output_names is not None else self._outputs
        found = results[names.index(self.output)] if self.output in names else None
        predictions = None if found is None else predictions_of(found)
        self._batches.log(rows_of(x), predictions, ids=ids, started=started)
        return results


def monitored_session(
    session: Any, monitor: Monitor, *, input: str | None = None, output: str | None = None
) -> MonitoredSession:
    """``session`` (an ``onnxruntime.InferenceSession``), logging every ``run`` through
    ``monitor``: the feed of ``input`` and the result of ``output`` (the first of each by
    default)."""
    return MonitoredSession(session, monitor, input=input, output=output)
