"""The catalog: loading the bundled recipes, listing them, looking one up."""

import pytest

from recipes import Recipe, load_catalog

FILE_ORDER = [
    "tomato-basil-pasta",
    "chicken-curry",
    "greek-salad",
    "mushroom-risotto",
    "shakshuka",
    "banana-pancakes",
    "lentil-soup",
    "garlic-butter-salmon",
]


def test_catalog_loads_the_bundled_recipes():
    catalog = load_catalog()
    assert len(catalog) == 8
    assert all(isinstance(recipe, Recipe) for recipe in catalog)


def test_listing_keeps_the_file_order():
    assert [recipe.id for recipe in load_catalog().all()] == FILE_ORDER


def test_get_recipe_by_id():
    recipe = load_catalog().get("shakshuka")
    assert recipe.title == "Shakshuka"
    assert recipe.minutes == 30
    assert "eggs" in recipe.ingredients


def test_get_unknown_recipe_raises_key_error():
    with pytest.raises(KeyError):
        load_catalog().get("deep-fried-moon")


def test_recipe_from_dict_rejects_bad_data():
    good = {"id": "toast", "title": "Toast", "ingredients": ["bread"], "minutes": 3}
    assert Recipe.from_dict(good).ingredients == ("bread",)
    with pytest.raises(ValueError, match="minutes"):
        Recipe.from_dict({**good, "minutes": -1})
    with pytest.raises(ValueError, match="title"):
        Recipe.from_dict({k: v for k, v in good.items() if k != "title"})
