"""A minimal iCalendar (RFC 5545) writer for deliverable due dates."""

from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone

from projects.models import Deliverable


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    # RFC 5545 lines are at most 75 octets; continuation lines start with a space.
    out, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            out.append(current)
            current = " "
        current += char
    out.append(current)
    return "\r\n".join(out)


def calendar(deliverables: Iterable[Deliverable], *, host: str) -> str:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//SharedGIS//Deliverables//EN",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:SharedGIS deliverables",
    ]
    for d in deliverables:
        if d.due_date is None:
            continue
        lines += [
            "BEGIN:VEVENT",
            f"UID:deliverable-{d.pk}@{host.split(':')[0]}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{d.due_date:%Y%m%d}",
            f"DTEND;VALUE=DATE:{d.due_date + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape(f'Due: {d.title} ({d.project.agreement.client.name})')}",
            f"DESCRIPTION:{_escape(f'{d.project.name} — {d.get_status_display()}')}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
