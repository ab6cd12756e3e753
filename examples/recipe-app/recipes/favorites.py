"""The user's favorite recipes, saved in a JSON file so they survive a refresh."""

from __future__ import annotations

from pathlib import Path


class FavoritesStore:
    """Favorite recipe ids, in the order they were saved, stored at ``path``."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._ids: list[str] = []

    def add(self, recipe_id: str) -> None:
        """Save ``recipe_id`` as a favorite (saving it twice keeps one)."""
        raise NotImplementedError("saving favorites is not implemented yet")

    def remove(self, recipe_id: str) -> None:
        """Forget ``recipe_id``; forgetting one that is not saved does nothing."""
        raise NotImplementedError("removing favorites is not implemented yet")

    def ids(self) -> list[str]:
        """Return the saved recipe ids, oldest first."""
        raise NotImplementedError("listing favorites is not implemented yet")

    def __contains__(self, recipe_id: object) -> bool:
        return recipe_id in self.ids()
