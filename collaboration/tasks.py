"""Celery tasks of collaboration: thin wrappers that load a row and call a service."""

from celery import shared_task

from collaboration.models import DeliverablePackage
from collaboration.package_services import package_build


@shared_task(name="collaboration.tasks.package_build_task", acks_late=True)
def package_build_task(package_id: int) -> str:
    package = DeliverablePackage.objects.filter(pk=package_id).first()
    if package is None:
        return "missing"
    return package_build(package=package).status
