"""Demo data hook: apps higher up register a seeder; `seed_demo` runs them in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Seeder = Callable[..., None]


@dataclass
class _Registry:
    seeders: list[tuple[int, str, Seeder]] = field(default_factory=list)

    def register(self, *, order: int, name: str) -> Callable[[Seeder], Seeder]:
        def decorator(fn: Seeder) -> Seeder:
            if not any(n == name for _, n, _ in self.seeders):
                self.seeders.append((order, name, fn))
                self.seeders.sort(key=lambda s: s[0])
            return fn

        return decorator

    def run(self, **context: Any) -> None:
        for _, _, fn in self.seeders:
            fn(**context)


demo_seeders = _Registry()
