"""Saving favorite recipes, and keeping them after a refresh (a new store on the same file)."""

from recipes import FavoritesStore


def test_add_and_list_favorites(tmp_path):
    store = FavoritesStore(tmp_path / "favorites.json")
    assert store.ids() == []
    store.add("shakshuka")
    store.add("greek-salad")
    assert store.ids() == ["shakshuka", "greek-salad"]
    assert "shakshuka" in store


def test_saving_a_favorite_twice_keeps_one(tmp_path):
    store = FavoritesStore(tmp_path / "favorites.json")
    store.add("shakshuka")
    store.add("shakshuka")
    assert store.ids() == ["shakshuka"]


def test_remove_a_favorite(tmp_path):
    store = FavoritesStore(tmp_path / "favorites.json")
    store.add("shakshuka")
    store.add("lentil-soup")
    store.remove("shakshuka")
    store.remove("never-saved")
    assert store.ids() == ["lentil-soup"]
    assert "shakshuka" not in store


def test_favorites_survive_a_refresh(tmp_path):
    path = tmp_path / "favorites.json"
    store = FavoritesStore(path)
    store.add("chicken-curry")
    store.add("banana-pancakes")
    assert FavoritesStore(path).ids() == ["chicken-curry", "banana-pancakes"]


def test_removing_a_favorite_survives_a_refresh(tmp_path):
    path = tmp_path / "nested" / "favorites.json"
    store = FavoritesStore(path)
    store.add("chicken-curry")
    store.add("banana-pancakes")
    FavoritesStore(path).remove("chicken-curry")
    assert FavoritesStore(path).ids() == ["banana-pancakes"]
