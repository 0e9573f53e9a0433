from django.apps import AppConfig


class LayersConfig(AppConfig):
    name = "layers"

    def ready(self) -> None:
        from django.urls import register_converter

        from layers.raster.urls import ImageFormatConverter

        # <rasterfmt:fmt> in raster tile routes (layers and share links): .pbf stays vector.
        register_converter(ImageFormatConverter, "rasterfmt")
