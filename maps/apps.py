from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "maps"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from maps.views import forget_session_tiles

        user_logged_out.connect(forget_session_tiles, dispatch_uid="maps.forget_session_tiles")
