"""The 400 answer for a bad request parameter: its message, as JSON for machine routes."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

MACHINE_PREFIXES = ("/api/", "/tiles/")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(getattr(exception, "message", "") or "")
    if request.path.startswith(MACHINE_PREFIXES) or request.path.endswith((".pbf", ".json")):
        return JsonResponse({"detail": message or "Bad request."}, status=400)
    return render(request, "400.html", {"message": message}, status=400)
