"""Personal access tokens: how desktop GIS (QGIS, ArcGIS Pro, GDAL) reads the OGC API as a user.

Only a SHA-256 digest of the token is stored (tokens are 256-bit random, so a fast hash is
enough); the clear token is shown once, at creation. Tokens are read-only by construction: the
OGC API serves GET only.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AccessTokenQuerySet(models.QuerySet["AccessToken"]):
    def active(self) -> "AccessTokenQuerySet":
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class AccessToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ogc_tokens"
    )
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token.")
    # The first characters of the token, to recognise it in the list (not enough to use it).
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
