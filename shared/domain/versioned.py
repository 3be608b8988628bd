"""What a stream kept as numbered versions (a call, a year's holiday arrangement) answers: the
version in force and any earlier one by its number."""

from __future__ import annotations

from typing import Any

from shared.domain.errors import NotFound


class Versioned:
    versions: list[dict[str, Any]]  # version n at index n - 1, appended by the aggregate's events

    def _no_version(self, version: int) -> str:
        raise NotImplementedError  # what the aggregate calls a missing version (its own words)

    @property
    def current(self) -> dict[str, Any]:
        return self.versions[-1]

    def at(self, version: int | None) -> dict[str, Any]:
        if version is None:
            return self.current
        if not 1 <= version <= len(self.versions):
            raise NotFound(self._no_version(version))
        return self.versions[version - 1]
