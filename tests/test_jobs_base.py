"""ImportJob and ExportJob are both a layers.models.Job: the same states, moved the same way.

Only who the job belongs to differs: deleting a user keeps the imports they ran (their layers
came from them) and deletes their exports (a download is its requester's alone).
"""

import pytest
from django.contrib.auth.models import AbstractUser

from layers.models import ExportJob, ImportJob, Job, LayerVersion
from tests.conftest import World
from tests.factories import make_user
from tests.map_factories import make_parcel_layer

pytestmark = pytest.mark.django_db


def _jobs(world: World, by: AbstractUser) -> list[Job]:
    layer = make_parcel_layer(project=world.project_a, n=2)
    version = LayerVersion.objects.get(layer=layer)
    return [
        ImportJob.objects.create(
            project=world.project_a,
            upload="uploads/parcels.geojson",
            original_filename="parcels.geojson",
            created_by=by,
        ),
        ExportJob.objects.create(version=version, fmt="csv", srid=4326, created_by=by),
    ]


def test_every_job_starts_queued_runs_and_fails_with_a_message(world: World) -> None:
    for job in _jobs(world, world.analyst):
        assert job.status == Job.Status.QUEUED and not job.is_finished
        job.start()
        job.refresh_from_db()
        assert (job.status, job.attempts, job.progress) == (Job.Status.RUNNING, 1, 0.01)
        assert job.started_at is not None and job.finished_at is None
        job.fail("The file has no layers.")
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED and job.message == "The file has no layers."
        assert job.is_finished and job.finished_at is not None


def test_deleting_a_user_keeps_their_imports_and_deletes_their_exports(world: World) -> None:
    someone = make_user(username="leaver", agency=world.provider, role="analyst")
    imported, exported = _jobs(world, someone)
    someone.delete()
    assert ImportJob.objects.get(pk=imported.pk).created_by is None
    assert not ExportJob.objects.filter(pk=exported.pk).exists()
