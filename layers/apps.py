from django.apps import AppConfig


class LayersConfig(AppConfig):
    name = "layers"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out
        from django.urls import register_converter

        from layers.raster.urls import ImageFormatConverter
        from layers.raster.views import forget_session_rasters
        from layers.tiles.views import forget_session_tiles

        # <rasterfmt:fmt> in raster tile routes (layers and share links): .pbf stays vector.
        register_converter(ImageFormatConverter, "rasterfmt")
        user_logged_out.connect(forget_session_tiles, dispatch_uid="layers.forget_session_tiles")
        user_logged_out.connect(forget_session_rasters, dispatch_uid="forget_session_rasters")
