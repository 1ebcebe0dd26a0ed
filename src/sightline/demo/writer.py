"""One simulated serving process of ``article-writer``: it generates articles at a steady
rate with two models loaded and logs each through :meth:`sightline.Monitor.log_generation`
(token counts, time to first token, latency, errors) with the prompt's embedding.

Run by the demo as ``python -m sightline.demo.writer --url URL --t0 EPOCH [--fast]`` with an
ingest key in ``$SIGHTLINE_API_KEY``; it stops on SIGTERM or SIGINT and when the demo that
started it is gone.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence

from sightline.demo.articles import EMBEDDING, MODEL, VERSION, Articles, Embed, embedder
from sightline.demo.service import STOP, demo_monitor, stop_on_signals
from sightline.demo.timeline import FAST, NORMAL, Timeline
from sightline.sdk.monitor import Monitor

RATE = 12.0  # generations per second


def serve(monitor: Monitor, timeline: Timeline, embed: Embed, t0: float) -> None:
    """Generate and log until asked to stop (SIGTERM, SIGINT)."""
    articles = Articles(seed=2000)
    start, sent = time.time(), 0
    while not STOP.is_set():
        now = time.time()
        due = math.floor((now - start) * RATE) - sent
        if due > 0:
            sent += due
            batch = articles.draw(due, shifted=timeline.phase(now - t0).covariate)
            vectors = embed(batch.prompts)
            for i in range(due):
                monitor.log_generation(
                    batch.prompts[i],
                    batch.outputs[i],
                    model_name=batch.model_names[i],
                    tokens_in=batch.tokens_in[i],
                    tokens_out=batch.tokens_out[i],
                    latency_s=batch.latency_s[i],
                    first_token_s=batch.first_token_s[i],
                    error="generation failed" if batch.errors[i] else None,
                    extra={EMBEDDING: [float(x) for x in vectors[i]]},
                )
        time.sleep(0.2)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the service until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m sightline.demo.writer")
    parser.add_argument("--url", required=True)
    parser.add_argument("--t0", type=float, required=True, help="the timeline's start (epoch)")
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args(argv)
    stop_on_signals()
    timeline = FAST if args.fast else NORMAL
    name, embed = embedder()
    monitor = demo_monitor(MODEL, VERSION, args.url, timeline)
    print(f"{MODEL} serving (pid {os.getpid()}), prompt embedding: {name}", flush=True)
    try:
        serve(monitor, timeline, embed, args.t0)
    finally:
        monitor.close(timeout=5.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
