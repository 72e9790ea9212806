"""A small least-recently-used cache that many request threads can share."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class LruCache(Generic[Key, Value]):
    """Every read and write holds the lock; loading a missing value does not, so a slow
    load never blocks readers of other keys (two threads may load the same key once each)."""

    def __init__(self, size: int):
        self._size = size
        self._items: OrderedDict[Key, Value] = OrderedDict()
        self._lock = Lock()

    def get_or_load(self, key: Key, load: Callable[[], Value]) -> Value:
        value = self.get(key)
        if value is not None:
            return value
        value = load()
        self.put(key, value)
        return value

    def get(self, key: Key) -> Value | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Key, value: Value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def pop(self, key: Key) -> Value | None:
        """Take the value out, so no other thread can get it while the caller uses it."""
        with self._lock:
            return self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
