"""Searching recipes by ingredient."""

from recipes import load_catalog
from recipes.search import search_by_ingredient, search_by_ingredients


def ids(recipes):
    return {recipe.id for recipe in recipes}


def test_search_by_one_ingredient():
    recipes = load_catalog().all()
    assert ids(search_by_ingredient(recipes, "cumin")) == {"shakshuka", "lentil-soup"}
    assert search_by_ingredient(recipes, "truffle") == []


def test_search_ignores_case_and_spaces():
    recipes = load_catalog().all()
    assert ids(search_by_ingredient(recipes, "  BaSiL ")) == {"tomato-basil-pasta"}


def test_search_matches_part_of_an_ingredient_name():
    recipes = load_catalog().all()
    assert ids(search_by_ingredient(recipes, "tomato")) == {
        "tomato-basil-pasta",
        "greek-salad",
        "shakshuka",
    }


def test_search_by_several_ingredients_requires_all_of_them():
    recipes = load_catalog().all()
    assert ids(search_by_ingredients(recipes, ["Garlic", "cumin"])) == {"shakshuka", "lentil-soup"}
    assert ids(search_by_ingredients(recipes, ["butter", "egg"])) == {"banana-pancakes"}


def test_search_by_no_ingredients_returns_every_recipe():
    recipes = load_catalog().all()
    assert search_by_ingredients(recipes, []) == recipes
