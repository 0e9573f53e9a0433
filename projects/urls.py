from django.urls import path

from projects import api, views

app_name = "projects"
urlpatterns = [
    path("projects/<slug:slug>/", views.project_detail, name="project"),
    path("deliverables/<int:pk>/", views.deliverable_detail, name="deliverable"),
    path("deliverables/<int:pk>/move/", views.deliverable_move, name="deliverable-move"),
    path("api/projects/", api.ProjectList.as_view(), name="api-projects"),
    path("api/projects/<slug:slug>/", api.ProjectDetail.as_view(), name="api-project"),
    path("api/deliverables/", api.DeliverableList.as_view(), name="api-deliverables"),
    path("api/deliverables/<int:pk>/", api.DeliverableDetail.as_view(), name="api-deliverable"),
]
