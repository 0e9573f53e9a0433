from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from audit.selectors import audit_entries_visible_to, may_read_audit


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not may_read_audit(request.user):
        raise Http404("Not found.")
    entries = audit_entries_visible_to(request.user)
    action = request.GET.get("action", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    actions = sorted(set(entries.values_list("action", flat=True).order_by()))
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    return render(request, "audit/log.html", {"page": page, "action": action, "actions": actions})
