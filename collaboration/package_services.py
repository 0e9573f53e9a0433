"""Writes for deliverable packages: request a build (queued after commit), build it (the task)."""

import tempfile
from pathlib import Path

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from collaboration.models import DeliverablePackage
from collaboration.packages import PackageError, build_package_file
from projects.access import is_client_manager, is_provider_staff
from projects.models import Deliverable
from projects.services import audit_for

PACKAGE_STATUSES = (Deliverable.Status.DELIVERED, Deliverable.Status.ACCEPTED)


def package_request(*, deliverable: Deliverable, by: User) -> DeliverablePackage:
    """Queue a (re)build of the deliverable's package; provider staff or a client manager."""
    agreement = deliverable.project.agreement
    if not (is_provider_staff(by, agreement) or is_client_manager(by, agreement)):
        raise PermissionDenied("Provider staff and the client's managers build packages.")
    if deliverable.status not in PACKAGE_STATUSES:
        raise ValidationError("Only a delivered or accepted deliverable can be packaged.")
    if not deliverable.map_versions.exists():
        raise ValidationError("Attach a published map version to the deliverable first.")
    with transaction.atomic():
        package, _ = DeliverablePackage.objects.select_for_update().get_or_create(
            deliverable=deliverable, defaults={"requested_by": by}
        )
        package.status = DeliverablePackage.Status.QUEUED
        package.requested_by = by
        package.message = ""
        package.save()
        audit_for(
            agreement,
            action="package.request",
            summary=f"Package of “{deliverable.title}” requested",
            actor=by,
            client_visible=True,
            target=deliverable,
        )
        from collaboration.tasks import package_build_task

        package_id = package.pk
        transaction.on_commit(lambda: package_build_task.delay(package_id))
    return package


def package_build(*, package: DeliverablePackage) -> DeliverablePackage:
    """Build the zip and store it; a failure is recorded on the row (a message, never a 500)."""
    DeliverablePackage.objects.filter(pk=package.pk).update(
        status=DeliverablePackage.Status.RUNNING
    )
    deliverable = Deliverable.objects.select_related(
        "project__agreement__client", "project__agreement__provider"
    ).get(pk=package.deliverable_id)
    with tempfile.TemporaryDirectory(prefix="sharedgis-zip-") as tmp:
        out = Path(tmp) / "package.zip"
        try:
            sha = build_package_file(deliverable, out)
        except PackageError as exc:
            DeliverablePackage.objects.filter(pk=package.pk).update(
                status=DeliverablePackage.Status.FAILED, message=str(exc)
            )
            package.refresh_from_db()
            return package
        old = package.file.name if package.file else ""
        with out.open("rb") as fh:
            package.file.save(f"deliverable-{deliverable.pk}-{sha[:16]}.zip", File(fh), save=False)
        if old and old != package.file.name:
            package.file.storage.delete(old)
        package.sha256 = sha
        package.size = out.stat().st_size
    package.status = DeliverablePackage.Status.READY
    package.message = ""
    package.built_at = timezone.now()
    package.save(update_fields=["file", "sha256", "size", "status", "message", "built_at"])
    return package
