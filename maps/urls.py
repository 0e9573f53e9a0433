from django.urls import path

from maps import api, views

app_name = "maps"
urlpatterns = [
    path("maps/", views.map_list, name="list"),
    path("maps/new/<slug:slug>/", views.map_new, name="create"),
    path("maps/<int:pk>/", views.map_open, name="map"),
    path("maps/<int:pk>/edit/", views.map_edit, name="edit"),
    path("maps/<int:pk>/publish/", views.map_publish_view, name="publish"),
    path("maps/versions/<int:pk>/", views.version_view, name="version"),
    path("maps/versions/<int:pk>/thumbnail.png", views.version_thumbnail, name="thumbnail"),
    path("maps/versions/<int:pk>/export.<str:fmt>", views.version_export, name="export"),
    path("maps/versions/<int:pk>/search/", views.version_search, name="search"),
    path("maps/versions/<int:pk>/labels/", views.version_labels, name="labels"),
    path("maps/versions/<int:pk>/attach/", views.version_attach, name="attach"),
    path("maps/versions/<int:pk>/share/", views.share_create, name="share-create"),
    path("maps/share-links/<int:pk>/revoke/", views.share_revoke, name="share-revoke"),
    path("share/<str:token>/", views.share_view, name="share"),
    path("share/<str:token>/search/", views.share_search, name="share-search"),
    path("share/<str:token>/labels/", views.share_labels, name="share-labels"),
    path("share/<str:token>/export.<str:fmt>", views.share_export, name="share-export"),
    path(
        "share/<str:token>/tiles/<int:layer_id>/<int:z>/<int:x>/<int:y>.pbf",
        views.share_tile,
        name="share-tile",
    ),
    path("api/maps/<int:pk>/", api.api_map, name="api-map"),
    path("api/maps/<int:pk>/layers/", api.api_map_layers, name="api-map-layers"),
    path("api/maps/<int:pk>/order/", api.api_map_order, name="api-map-order"),
    path("api/map-layers/<int:pk>/", api.api_map_layer, name="api-map-layer"),
]
