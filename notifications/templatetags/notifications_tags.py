from django import template

from notifications.models import Notification

register = template.Library()


@register.simple_tag
def unread_notifications(user) -> int:  # type: ignore[no-untyped-def]
    """How many of the user's notifications are unread (0 for anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
