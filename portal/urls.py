from django.contrib import admin
from django.urls import include, path

from projects import views as project_views

urlpatterns = [
    path("", project_views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("projects.urls")),
    path("", include("layers.urls")),
    path("", include("maps.urls")),
    path("", include("hours.urls")),
    path("", include("notifications.urls")),
    path("", include("projects.audit_log")),
]

# A bad query parameter (projects/params.py) answers 400 with its message.
handler400 = "portal.errors.bad_request"
