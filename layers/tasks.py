"""Celery tasks: thin wrappers that load a row and call a service."""

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from layers import partitions
from layers.models import ExportJob, ImportJob
from layers.services import (
    export_job_run,
    export_jobs_sweep,
    jobs_requeue_stuck,
    layer_import,
    partitions_drop_orphans,
    raster_orphans_sweep,
)

# Registered with Celery through this module (autodiscovery reads each app's tasks.py).
from layers.tiles.tasks import tile_overviews_prepare_task as tile_overviews_prepare_task

DB_RETRY_SECONDS = 10


@shared_task(
    bind=True,
    name="layers.tasks.layer_import_task",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=3,
)
def layer_import_task(self: Any, job_id: str) -> str:
    try:
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is None:
            return "missing"
        return layer_import(job=job).status
    except (OperationalError, InterfaceError) as exc:
        # PostgreSQL restarted mid-job: the import's transaction rolled back; run it again.
        raise self.retry(exc=exc, countdown=DB_RETRY_SECONDS) from exc


@shared_task(name="layers.tasks.requeue_stuck_jobs_task")
def requeue_stuck_jobs_task() -> int:
    return jobs_requeue_stuck()


@shared_task(name="layers.tasks.drop_orphan_partitions_task")
def drop_orphan_partitions_task() -> int:
    return partitions_drop_orphans()


@shared_task(name="layers.tasks.raster_orphans_sweep_task")
def raster_orphans_sweep_task() -> int:
    return raster_orphans_sweep()


@shared_task(name="layers.tasks.export_job_task", acks_late=True, reject_on_worker_lost=True)
def export_job_task(job_id: str) -> str:
    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None:
        return "missing"
    return export_job_run(job=job).status


@shared_task(name="layers.tasks.export_jobs_sweep_task")
def export_jobs_sweep_task() -> int:
    return export_jobs_sweep()


@shared_task(name="layers.tasks.partitions_retire_task")
def partitions_retire_task(version_ids: list[int]) -> list[int]:
    # Ids of deleted versions whose partitions a long reader kept busy; the sweeper retries later.
    return partitions.retire_now(version_ids)
