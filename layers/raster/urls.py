"""URL pieces of raster routes (the routes themselves are in layers/urls.py and maps/urls.py)."""


class ImageFormatConverter:
    """Raster tile formats in a path, so that .pbf stays the vector tile route's."""

    regex = "png|webp"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
