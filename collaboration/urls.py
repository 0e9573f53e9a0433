from django.urls import path

from collaboration import packages_views, value_views, views

app_name = "collaboration"
urlpatterns = [
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/<str:action>/", views.request_action, name="request-action"),
    path(
        "requests/<int:pk>/attachments/<int:attachment>/",
        views.request_attachment,
        name="request-attachment",
    ),
    path(
        "api/maps/versions/<int:pk>/comments/",
        views.api_version_comments,
        name="api-version-comments",
    ),
    path("api/comments/<int:pk>/replies/", views.api_thread_replies, name="api-thread-replies"),
    path("api/comments/<int:pk>/resolve/", views.api_thread_resolve, name="api-thread-resolve"),
    path("api/comments/<int:pk>/reopen/", views.api_thread_reopen, name="api-thread-reopen"),
    path("share/<str:token>/comments/", views.share_comments, name="share-comments"),
    path(
        "deliverables/<int:pk>/request-changes/",
        views.deliverable_request_changes,
        name="deliverable-request-changes",
    ),
    path("agreements/<int:pk>/value/", value_views.value_page, name="value"),
    path("agreements/<int:pk>/value.pdf", value_views.value_pdf, name="value-pdf"),
    path("agreements/<int:pk>/value.csv", value_views.value_csv, name="value-csv"),
    path("agreements/<int:pk>/value/terms/", value_views.value_terms, name="value-terms"),
    path("deliverables/<int:pk>/package/", packages_views.package_page, name="package"),
    path(
        "deliverables/<int:pk>/package/build/", packages_views.package_build, name="package-build"
    ),
    path("deliverables/<int:pk>/package.zip", packages_views.package_zip, name="package-zip"),
]
