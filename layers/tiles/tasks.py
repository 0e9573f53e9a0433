"""Celery task of the tiles: a thin wrapper (registered through layers/tasks.py)."""

from celery import shared_task

from layers.tiles.mvt import overviews_prepare


@shared_task(name="layers.tasks.tile_overviews_prepare_task", acks_late=True)
def tile_overviews_prepare_task(version_id: int) -> None:
    # Idempotent: rebuilding the overviews of a version replaces them.
    overviews_prepare(version_id)
