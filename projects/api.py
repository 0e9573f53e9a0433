from django.db.models import QuerySet
from rest_framework import generics, serializers

from projects.access import get_object_for
from projects.models import Deliverable, Project


class ProjectSerializer(serializers.ModelSerializer[Project]):
    client = serializers.CharField(source="agreement.client.name")

    class Meta:
        model = Project
        fields = ["slug", "name", "description", "status", "start_date", "due_date", "client"]


class DeliverableSerializer(serializers.ModelSerializer[Deliverable]):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Deliverable
        fields = ["id", "title", "kind", "status", "due_date", "project"]


class ProjectList(generics.ListAPIView[Project]):
    serializer_class = ProjectSerializer

    def get_queryset(self) -> QuerySet[Project]:
        return Project.objects.visible_to(self.request.user).select_related("agreement__client")


class ProjectDetail(generics.RetrieveAPIView[Project]):
    serializer_class = ProjectSerializer

    def get_object(self) -> Project:
        return get_object_for(self.request.user, Project, slug=self.kwargs["slug"])


class DeliverableList(generics.ListAPIView[Deliverable]):
    serializer_class = DeliverableSerializer

    def get_queryset(self) -> QuerySet[Deliverable]:
        return Deliverable.objects.visible_to(self.request.user).select_related("project")


class DeliverableDetail(generics.RetrieveAPIView[Deliverable]):
    serializer_class = DeliverableSerializer

    def get_object(self) -> Deliverable:
        return get_object_for(self.request.user, Deliverable, pk=self.kwargs["pk"])
