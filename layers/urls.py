from django.urls import path

from layers import api, views
from layers.raster import views as raster_views
from layers.tiles import views as tiles

app_name = "layers"
urlpatterns = [
    path("projects/<slug:slug>/layers/upload/", views.layer_upload, name="upload"),
    path("layers/<int:pk>/", views.layer_detail, name="layer"),
    path("layers/<int:pk>/replace/", views.layer_replace, name="replace"),
    path("layers/<int:pk>/delete/", views.layer_delete_view, name="delete"),
    path("layers/<int:pk>/features/", views.layer_features, name="features"),
    path("layers/<int:pk>/geojson/", views.layer_geojson, name="geojson"),
    path("layers/<int:pk>/download/<str:fmt>/", views.layer_download, name="download"),
    path(
        "tiles/layers/<int:layer_id>/<int:z>/<int:x>/<int:y>.<rasterfmt:fmt>",
        raster_views.raster_tile,
        name="raster-tile",
    ),
    path(
        "tiles/layers/<int:layer_id>/identify.json",
        raster_views.raster_identify,
        name="raster-identify",
    ),
    path("layers/<int:pk>/exports/", views.export_create, name="export-create"),
    path("exports/<uuid:job_id>/", views.export_detail, name="export"),
    path("exports/<uuid:job_id>/status.json", views.export_status, name="export-status"),
    path("exports/<uuid:job_id>/file/", views.export_file, name="export-file"),
    path("api/projects/<slug:slug>/layers/imports/", api.ImportCreate.as_view(), name="api-import"),
    path("api/imports/<uuid:job_id>/", api.ImportStatus.as_view(), name="api-job"),
    path("tiles/layers/<int:layer_id>/tilejson.json", tiles.layer_tilejson, name="tilejson"),
    path("tiles/layers/<int:layer_id>/<int:z>/<int:x>/<int:y>.pbf", tiles.layer_tile, name="tile"),
]
