"""Streaming change detectors over a metric series: ADWIN, Page-Hinkley and CUSUM.

Each detector takes one value at a time; ``update(x)`` returns whether a change was
detected at ``x``. As in river, a detection is reported once and the whole state is
discarded at the next update, so the detector starts over on the new regime.

River's default thresholds are fixed numbers in the data's units and raise many false
alarms on stable series. ``calibrate(reference, run_length=10_000)`` instead sets a
detector's threshold from stable reference data so that it raises **at most one false
alarm per** ``run_length`` **updates** on average, sightline's default for metric series:

1. draw ``n_streams`` bootstrap streams of ``3 * run_length`` values from the reference
   (with replacement, seeded);
2. run the detector's recursion on all streams at once (vectorized), recording at every
   step the largest threshold that would already have raised an alarm;
3. take the smallest threshold for which the mean run length to the first alarm,
   truncated at ``3 * run_length``, less two standard errors, is at least ``run_length``.
   Truncation only shortens run lengths, so the expected run length between false alarms
   is at least ``run_length`` (with about 97.5 % confidence over the simulation).

The bootstrap treats the reference as independent values; an autocorrelated series
alarms more often than calibrated (see docs/detectors.md).
"""

from sightline.stats.detectors.adwin import ADWIN
from sightline.stats.detectors.base import ChangeDetector, detect
from sightline.stats.detectors.cusum import CUSUM, cusum_arl
from sightline.stats.detectors.page_hinkley import PageHinkley

__all__ = ["ADWIN", "CUSUM", "ChangeDetector", "PageHinkley", "cusum_arl", "detect"]
