"""Recipe app: a bundled recipe catalog, ingredient search, favorites and time filters."""

from recipes.catalog import Catalog, load_catalog
from recipes.favorites import FavoritesStore
from recipes.models import Recipe

__all__ = ["Catalog", "FavoritesStore", "Recipe", "load_catalog"]
