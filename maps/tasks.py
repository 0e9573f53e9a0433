"""Celery tasks of the maps app: thin wrappers that call a service."""

from celery import shared_task

from maps.services import map_version_thumbnail_store


@shared_task(name="maps.tasks.version_thumbnail_task", acks_late=True)
def version_thumbnail_task(version_id: int) -> None:
    map_version_thumbnail_store(version_id=version_id)
