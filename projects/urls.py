from django.urls import path

from projects import api, view_as, views

app_name = "projects"
urlpatterns = [
    path("projects/<slug:slug>/", views.project_detail, name="project"),
    path("deliverables/<int:pk>/", views.deliverable_detail, name="deliverable"),
    path("deliverables/<int:pk>/move/", views.deliverable_move, name="deliverable-move"),
    path("api/projects/", api.ProjectList.as_view(), name="api-projects"),
    path("api/projects/<slug:slug>/", api.ProjectDetail.as_view(), name="api-project"),
    path("api/deliverables/", api.DeliverableList.as_view(), name="api-deliverables"),
    path("api/deliverables/<int:pk>/", api.DeliverableDetail.as_view(), name="api-deliverable"),
    # The paths kept their maps/ prefix from when "View as" lived there.
    path("maps/view-as/", view_as.view_as_start, name="view-as"),
    path("maps/view-as/stop/", view_as.view_as_stop, name="view-as-stop"),
]
