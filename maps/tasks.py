"""Celery tasks of the maps app: thin wrappers that call a service."""

from celery import shared_task

from maps.tiles import prepare_version


@shared_task(name="maps.tasks.tile_overviews_prepare_task", acks_late=True)
def tile_overviews_prepare_task(version_id: int) -> None:
    # Idempotent: rebuilding the overviews of a version replaces them.
    prepare_version(version_id)
