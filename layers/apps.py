from django.apps import AppConfig


class LayersConfig(AppConfig):
    name = "layers"
