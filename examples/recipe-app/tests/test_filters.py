"""Filtering recipes by cooking time, and combining filters."""

import pytest

from recipes import FavoritesStore, load_catalog
from recipes.search import filter_by_max_minutes, find_recipes


def test_filter_by_cooking_time_includes_the_limit():
    recipes = load_catalog().all()
    quick = filter_by_max_minutes(recipes, 18)
    assert [recipe.id for recipe in quick] == [
        "greek-salad",
        "banana-pancakes",
        "garlic-butter-salmon",
    ]
    assert filter_by_max_minutes(recipes, 5) == []


def test_filter_by_cooking_time_rejects_a_negative_limit():
    with pytest.raises(ValueError):
        filter_by_max_minutes(load_catalog().all(), -1)


def test_find_recipes_combines_ingredient_and_time():
    recipes = load_catalog().all()
    found = find_recipes(recipes, ingredients=["garlic"], max_minutes=30)
    assert [recipe.id for recipe in found] == [
        "tomato-basil-pasta",
        "shakshuka",
        "garlic-butter-salmon",
    ]
    assert find_recipes(recipes) == recipes


def test_find_recipes_among_favorites_only(tmp_path):
    recipes = load_catalog().all()
    store = FavoritesStore(tmp_path / "favorites.json")
    for recipe_id in ("lentil-soup", "greek-salad", "chicken-curry"):
        store.add(recipe_id)
    found = find_recipes(recipes, ingredients=["onion"], max_minutes=40, only_ids=store.ids())
    assert [recipe.id for recipe in found] == ["greek-salad", "lentil-soup"]
