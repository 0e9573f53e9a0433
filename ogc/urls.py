"""/ogc/ for users (session or personal access token) and /ogc/share/<token>/ for share links."""

from django.urls import path

from ogc import views
from ogc.auth import ogc_auth

ROUTES = [
    ("", "landing"),
    ("conformance", "conformance"),
    ("api", "api"),
    ("collections", "collections"),
    ("collections/<str:cid>", "collection"),
    ("collections/<str:cid>/queryables", "queryables"),
    ("collections/<str:cid>/schema", "schema"),
    ("collections/<str:cid>/items", "items"),
    ("collections/<str:cid>/items/<str:fid>", "item"),
    ("collections/<str:cid>/tiles", "tilesets"),
    ("collections/<str:cid>/tiles/<str:tms>", "tileset"),
    ("collections/<str:cid>/tiles/<str:tms>/<str:z>/<str:y>/<str:x>", "tile"),
    ("collections/<str:cid>/map/tiles", "map-tilesets"),
    ("collections/<str:cid>/map/tiles/<str:tms>", "map-tileset"),
    ("collections/<str:cid>/map/tiles/<str:tms>/<str:z>/<str:y>/<str:x>", "map-tile"),
    ("tileMatrixSets", "tile-matrix-sets"),
    ("tileMatrixSets/<str:tms>", "tile-matrix-set"),
]

app_name = "ogc"
urlpatterns = [
    path("ogc/connect/", views.token_page, name="tokens"),
    path("ogc/connect/tokens/<int:pk>/revoke/", views.token_revoke_view, name="token-revoke"),
    *[path(f"ogc/{route}", ogc_auth(views.VIEWS[name]), name=name) for route, name in ROUTES],
    # Clients join paths to the URL they were given, with or without its final slash.
    path("ogc", ogc_auth(views.landing), name="landing"),
    path("ogc/share/<str:share_token>", views.share_auth(views.landing), name="share-landing"),
    *[
        path(
            f"ogc/share/<str:share_token>/{route}",
            views.share_auth(views.VIEWS[name]),
            name=f"share-{name}",
        )
        for route, name in ROUTES
    ],
]
