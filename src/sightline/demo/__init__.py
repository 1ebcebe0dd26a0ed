"""The live demo (``sightline demo``): a collector, simulated serving processes of
``credit-scoring`` logging through the SDK, drifts on a timeline, a killed instance.

Modules: :mod:`~sightline.demo.data` (the service's rows and model),
:mod:`~sightline.demo.timeline` (when what happens), :mod:`~sightline.demo.service` (one
serving process), :mod:`~sightline.demo.supervisor` (the child processes),
:mod:`~sightline.demo.rules` and :mod:`~sightline.demo.receiver` (the alerts and their
webhook), :mod:`~sightline.demo.progress` (the progress lines), :mod:`~sightline.demo.run`
(all of it together).
"""
