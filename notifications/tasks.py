from celery import shared_task

from notifications.services import notification_email_send


# A mail server that is briefly down gets retried; already-sent notifications are skipped.
@shared_task(
    name="notifications.tasks.notification_email_task",
    time_limit=300,
    soft_time_limit=270,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=6,
)
def notification_email_task(notification_ids: list[int]) -> int:
    return notification_email_send(notification_ids=notification_ids)
