"""The audit log page. Who reads which entries is projects.access.audit_q (by agreement).

It lives in projects, not audit: audit is a leaf that records what it is given, and the
reading rules are tenancy. The URL keeps its `audit:log` name.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from audit.models import AuditEntry
from projects.access import UserLike, audit_q, can_read_audit


def audit_entries_visible_to(user: UserLike) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(audit_q(user)).select_related("actor", "agency")


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not can_read_audit(request.user):
        raise Http404("Not found.")
    entries = audit_entries_visible_to(request.user)
    action = request.GET.get("action", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    actions = sorted(set(entries.values_list("action", flat=True).order_by()))
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    return render(request, "audit/log.html", {"page": page, "action": action, "actions": actions})


app_name = "audit"
urlpatterns = [path("audit/", audit_log, name="log")]
