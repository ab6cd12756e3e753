"""The bundled recipe catalog: load it, list it, look a recipe up."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from recipes.models import Recipe

DATA_FILE = Path(__file__).parent / "data" / "recipes.json"


class Catalog:
    """Recipes in the order they appear in the data file."""

    def __init__(self, recipes: Iterable[Recipe]) -> None:
        self._recipes = list(recipes)

    def __len__(self) -> int:
        return len(self._recipes)

    def __iter__(self) -> Iterator[Recipe]:
        return iter(self.all())

    def all(self) -> list[Recipe]:
        """Return every recipe, in file order."""
        return list(self._recipes)

    def get(self, recipe_id: str) -> Recipe:
        """Return the recipe with ``recipe_id``; raise KeyError if there is none."""
        for recipe in self._recipes:
            if recipe.id == recipe_id:
                return recipe
        raise KeyError(recipe_id)


def load_catalog(path: Path = DATA_FILE) -> Catalog:
    """Load the catalog from a JSON list of recipes; raise ValueError on a bad entry."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return Catalog(Recipe.from_dict(item) for item in data)
