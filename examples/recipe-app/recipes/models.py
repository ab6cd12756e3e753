"""The recipe record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """One recipe. ``minutes`` is the total cooking time."""

    id: str
    title: str
    ingredients: tuple[str, ...]
    minutes: int

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        """Build a recipe from its JSON form; raise ValueError naming a missing or bad field."""
        for key in ("id", "title", "ingredients", "minutes"):
            if key not in data:
                raise ValueError(f"recipe is missing {key!r}")
        minutes = data["minutes"]
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0:
            raise ValueError(f"recipe {data['id']!r}: minutes must be a non-negative integer")
        ingredients = data["ingredients"]
        if not isinstance(ingredients, list) or not all(isinstance(i, str) for i in ingredients):
            raise ValueError(f"recipe {data['id']!r}: ingredients must be a list of strings")
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            ingredients=tuple(ingredients),
            minutes=minutes,
        )
