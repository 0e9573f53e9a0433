from django.apps import AppConfig


class LayersConfig(AppConfig):
    name = "layers"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from layers.tiles.views import forget_session_tiles

        user_logged_out.connect(forget_session_tiles, dispatch_uid="layers.forget_session_tiles")
