"""Usage counts: maps and layers announce opens, exports and downloads; this records them.

Receivers never break the page that sent the signal's user: a failed count is logged, not raised.
"""

import logging
from typing import Any

from django.db import DatabaseError, transaction
from django.dispatch import receiver

from collaboration.services import usage_record
from layers.signals import layer_version_downloaded
from maps.models import MapVersion
from maps.signals import map_version_used
from projects.access import scope_for

log = logging.getLogger(__name__)


def _agency_of(user: Any, version: MapVersion, via_link: bool) -> int | None:
    agreement = version.map.project.agreement
    if via_link:
        return agreement.client_id
    scope = scope_for(user)
    if agreement.client_id in scope.client_ids:
        return agreement.client_id
    if agreement.provider_id in scope.provider_ids:
        return agreement.provider_id
    return None


def _record(version: MapVersion, user: Any, kind: str, via_link: bool) -> None:
    agency_id = _agency_of(user, version, via_link)
    if agency_id is None:
        return
    try:
        with transaction.atomic():  # a savepoint: a failed count leaves the request's work intact
            usage_record(version_id=version.pk, agency_id=agency_id, kind=kind)
    except DatabaseError:
        log.exception("usage count of version %s not recorded", version.pk)


@receiver(map_version_used, dispatch_uid="collaboration-map-usage")
def count_map_use(sender: Any, version: MapVersion, user: Any, kind: str, **kw: Any) -> None:
    _record(version, user, kind, via_link=kw.get("share_link") is not None)


@receiver(layer_version_downloaded, dispatch_uid="collaboration-download-usage")
def count_download(sender: Any, version: Any, user: Any, **kw: Any) -> None:
    # A download counts for the newest published map version that pins this layer version.
    map_version = (
        MapVersion.objects.filter(layer_versions=version)
        .select_related("map__project__agreement")
        .order_by("-published_at", "-pk")
        .first()
    )
    if map_version is not None:
        _record(map_version, user, "download", via_link=False)
