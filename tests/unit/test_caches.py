"""The caches request threads share survive many threads hammering them: the LRU cache
itself, the runner's spec cache, and the engine's form and live-cycle caches. (The cache
this replaced, an OrderedDict without a lock, raised KeyError with 8 threads.)"""

from __future__ import annotations

import json
import random
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from picycle.engine import Engine
from picycle.engine.bundles import read_bundle, shipped_processes
from picycle.engine.cache import LruCache
from picycle.engine.repository import KeptCycle
from picycle.engine.spiff import serializer
from picycle.engine.spiff.parser import parse_bundle
from picycle.engine.spiff.runner import ProcessRunner

THREADS = 8
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@contextmanager
def switching(interval: float | None) -> Iterator[None]:
    """Make the interpreter switch threads that often (seconds), so that races show."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(interval or before)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def hammer(
    work: Callable[[random.Random], None],
    threads: int = THREADS,
    switch_interval: float | None = 1e-6,
) -> None:
    """Run ``work`` in many threads at once, switching between them every microsecond;
    re-raise the first failure of any of them."""
    failures: list[BaseException] = []
    start = threading.Barrier(threads)

    def run(seed: int) -> None:
        generator = random.Random(seed)
        start.wait()
        try:
            work(generator)
        except BaseException as failure:  # noqa: BLE001 - handed to the test below
            failures.append(failure)

    with switching(switch_interval):
        workers = [threading.Thread(target=run, args=(seed,)) for seed in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    if failures:
        raise failures[0]


def value_of(key: int) -> str:
    return f"value {key}"


def churn(cache: LruCache, generator: random.Random, rounds: int = 50_000, keys: int = 12):
    """Reads, loads, writes and takes, on more keys than the cache holds; every value seen
    must be the one for its key."""
    for _ in range(rounds):
        key = generator.randrange(keys)
        action = generator.random()
        if action < 0.6:
            assert cache.get_or_load(key, lambda k=key: value_of(k)) == value_of(key)
        elif action < 0.85:
            cache.put(key, value_of(key))
        elif action < 0.99:
            taken = cache.pop(key)
            assert taken in (None, value_of(key))
        else:
            cache.clear()


def size_of(cache: LruCache) -> int:
    """How many entries the cache holds, counted through its public interface."""
    return sum(cache.pop(key) is not None for key in range(100))


def test_the_lru_cache_survives_many_threads():
    cache: LruCache[int, str] = LruCache(4)
    hammer(lambda generator: churn(cache, generator))
    assert size_of(cache) <= 4


def test_the_lru_cache_keeps_the_most_recently_used():
    cache: LruCache[int, str] = LruCache(2)
    cache.put(1, "one")
    cache.put(2, "two")
    assert cache.get_or_load(1, lambda: "loaded again") == "one"
    cache.put(3, "three")  # 2 was used least recently
    assert cache.pop(2) is None
    assert (cache.pop(1), cache.pop(3)) == ("one", "three")


def test_a_value_taken_out_is_handed_to_one_thread_only():
    cache: LruCache[int, str] = LruCache(8)
    handed: list[str] = []

    def take(generator: random.Random) -> None:
        for _ in range(2000):
            taken = cache.pop(0)
            if taken is not None:
                handed.append(taken)
                cache.put(0, f"{taken}+")

    cache.put(0, "kept")
    hammer(take)
    # Each value was taken exactly once: every put was of a value taken just before.
    assert len(handed) == len(set(handed))


TINY = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="tiny_definitions" targetNamespace="http://picycle.test/tiny">
  <bpmn:process id="tiny" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="to_end" sourceRef="start" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def spec_of(files: dict[str, bytes]) -> str:
    (process,) = parse_bundle(files)
    return serializer.dump_spec(process.spec, process.subprocess_specs)


@pytest.fixture(scope="module")
def pi_cycle_spec() -> str:
    return spec_of(read_bundle(shipped_processes()))


def test_the_runners_spec_cache_survives_many_threads(pi_cycle_spec):
    runner = ProcessRunner(cache_size=2)
    tiny = spec_of({"tiny.bpmn": TINY})
    nothing_reached = json.dumps({"tasks": {}, "subprocesses": {}})

    def look_up(generator: random.Random) -> None:
        # Cheap calls on three small specs that two places hold: evictions race with hits.
        for _ in range(5000):
            definition_id = generator.randrange(3)
            missing = runner.missing_elements(definition_id, lambda: tiny, nothing_reached)
            assert missing == []

    hammer(look_up)

    # And the real thing: cycles started and restored on specs coming and going.
    data = {"title": "Faster permits", "cycle_number": 1}

    def run(generator: random.Random) -> None:
        for _ in range(4):
            definition_id = 10 + generator.randrange(3)
            unit = f"Directorate {generator.randrange(1000)}"
            instance = runner.start(
                definition_id, lambda: pi_cycle_spec, {**data, "unit": unit}, NOW
            )
            restored = runner.restore(definition_id, lambda: pi_cycle_spec, instance.dump())
            assert restored.snapshot()["unit"] == unit
            assert restored.dump() == instance.dump()

    hammer(run, switch_interval=None)


def test_the_engines_form_and_live_caches_survive_many_threads(tmp_path):
    """The engine's own caches, on more keys than they hold, so that they evict."""
    engine = Engine(f"sqlite:///{tmp_path / 'caches.db'}")
    try:

        def both(generator: random.Random) -> None:
            churn(engine.forms, generator, keys=520)
            for _ in range(50_000):
                cycle_id = generator.randrange(260)
                kept = engine.live.pop(cycle_id)
                assert kept is None or kept.cycle == f"cycle {cycle_id}"
                revision = generator.randrange(2**62)
                engine.live.put(cycle_id, KeptCycle(revision, f"cycle {cycle_id}"))

        hammer(both)
    finally:
        engine.dispose()
