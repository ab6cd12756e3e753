"""Finding recipes: by ingredient, by cooking time, or both."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from recipes.models import Recipe


def search_by_ingredient(recipes: Iterable[Recipe], ingredient: str) -> list[Recipe]:
    """Return the recipes that use ``ingredient``, in the given order.

    Matching ignores case and surrounding spaces, and a part of an ingredient's name
    counts ("tomato" finds "cherry tomatoes").
    """
    raise NotImplementedError("search by ingredient is not implemented yet")


def search_by_ingredients(recipes: Iterable[Recipe], ingredients: Iterable[str]) -> list[Recipe]:
    """Return the recipes that use every one of ``ingredients`` (all of them if none given)."""
    raise NotImplementedError("search by several ingredients is not implemented yet")


def filter_by_max_minutes(recipes: Iterable[Recipe], max_minutes: int) -> list[Recipe]:
    """Return the recipes ready in at most ``max_minutes``; raise ValueError if it is negative."""
    raise NotImplementedError("filtering by cooking time is not implemented yet")


def find_recipes(
    recipes: Iterable[Recipe],
    *,
    ingredients: Iterable[str] = (),
    max_minutes: int | None = None,
    only_ids: Collection[str] | None = None,
) -> list[Recipe]:
    """Return the recipes matching every given filter, in the given order.

    ``only_ids`` restricts the result to those recipe ids (e.g. the user's favorites).
    """
    raise NotImplementedError("combining filters is not implemented yet")
