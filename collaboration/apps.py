from django.apps import AppConfig


class CollaborationConfig(AppConfig):
    name = "collaboration"
    verbose_name = "Collaboration: requests, comments, value reports, packages"

    def ready(self) -> None:
        # Usage counts observe maps and layers through their signals (they never import us).
        from collaboration import receivers  # noqa: F401
