"""What the gallery hands out: a search result and a person."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Match:
    """The answer for one face: `name` and `person_id` are None when it is not recognised.

    `similarity` is the cosine similarity of the best template searched (of anyone for
    identify, of the claimed person for verify), also when it is below the threshold;
    -1.0 when there was nothing to compare with (an empty gallery).
    """

    name: str | None
    similarity: float
    person_id: int | None

    @property
    def matched(self) -> bool:
        return self.name is not None


@dataclass(frozen=True)
class Person:
    """An enrolled person. `templates` counts the templates searched with the current model."""

    id: int
    name: str
    templates: int
    created: str
    updated: str
    thumbnail: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Template:
    """One stored face template of a person (any model), with the photo it came from."""

    id: int
    person_id: int
    model_id: str
    source: str | None
    created: str
    searched: bool  # made by the gallery's current model (so it is used for recognition)
    thumbnail: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class DamagedTemplate:
    """A template that cannot be read (e.g. an altered row of an encrypted gallery): it is
    left out of every search, and the admin is told."""

    template_id: int
    person_id: int
    name: str
    why: str

    def message(self) -> str:
        return (f"template {self.template_id} of {self.name!r} cannot be read ({self.why}); "
                f"it is not searched. Remove {self.name!r} and enrol them again, or restore "
                "a backup (export)")
