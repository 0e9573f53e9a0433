"""Parsing of the weekly timesheet grid and the single time-entry form."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.http import QueryDict

from hours.services import EntryData
from projects.models import Deliverable, Project
from projects.params import BadParameter, int_param, parse_int

BLANK_ROWS = 3


@dataclass
class GridRow:
    """One row of the timesheet as shown (and as posted back, so nothing typed is lost)."""

    project: str = ""
    deliverable: str = ""
    billable: bool = True
    note: str = ""
    private_note: str = ""
    hours: list[str] = field(default_factory=lambda: [""] * 7)
    locked: bool = False


def _fmt(value: Decimal) -> str:
    return "" if not value else f"{value.normalize():f}"


def rows_from_entries(grouped: list[dict[str, Any]]) -> list[GridRow]:
    return [
        GridRow(
            project=row["project"].slug,
            deliverable=str(row["deliverable"].pk) if row["deliverable"] else "",
            billable=row["billable"],
            note=row["note"],
            private_note=row["private_note"],
            hours=[_fmt(h) for h in row["hours"]],
            locked=row["locked"],
        )
        for row in grouped
    ]


def rows_from_post(post: QueryDict) -> list[GridRow]:
    rows = []
    count = int_param(post, "rows", 0) or 0
    for i in range(min(count, 200)):
        p = f"r{i}-"
        rows.append(
            GridRow(
                project=post.get(p + "project", ""),
                deliverable=post.get(p + "deliverable", ""),
                billable=post.get(p + "billable") == "on",
                note=post.get(p + "note", "").strip(),
                private_note=post.get(p + "private_note", "").strip(),
                hours=[post.get(f"{p}d{d}", "").strip() for d in range(7)],
            )
        )
    return rows


def items_from_rows(
    rows: list[GridRow], monday: date, projects: dict[str, Project]
) -> tuple[list[EntryData], list[str]]:
    """Entries for every filled cell, and one clear message per problem (row and day named)."""
    items: list[EntryData] = []
    errors: list[str] = []
    for n, row in enumerate(rows, start=1):
        if row.locked:
            continue
        filled = [(d, h) for d, h in enumerate(row.hours) if h]
        if not filled:
            continue
        project = projects.get(row.project)
        if project is None:
            errors.append(f"Row {n}: choose a project.")
            continue
        deliverable = None
        if row.deliverable:
            try:
                pk = parse_int(row.deliverable, name="deliverable", minimum=1)
            except BadParameter:
                pk = None
            deliverable = Deliverable.objects.filter(pk=pk, project=project).first() if pk else None
            if deliverable is None:
                errors.append(f"Row {n}: that deliverable is not part of {project.name}.")
                continue
        for d, text in filled:
            day = monday + timedelta(days=d)
            try:
                hours = Decimal(text.replace(",", "."))
            except InvalidOperation:
                hours = Decimal("NaN")
            if not hours.is_finite():
                errors.append(f"Row {n}, {day:%a %d %b}: {text!r} is not a number of hours.")
                continue
            if hours == 0:
                continue
            items.append(
                EntryData(
                    project=project,
                    deliverable=deliverable,
                    date=day,
                    hours=hours,
                    billable=row.billable,
                    note=row.note,
                    private_note=row.private_note,
                )
            )
    return items, errors


class TimeEntryForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    project = forms.ModelChoiceField(queryset=Project.objects.none())
    deliverable = forms.ModelChoiceField(queryset=Deliverable.objects.none(), required=False)
    hours = forms.DecimalField(max_digits=5, decimal_places=2, min_value=Decimal("0.25"))
    billable = forms.BooleanField(required=False, initial=True)
    note = forms.CharField(max_length=500, required=False)
    private_note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Internal note (private)"
    )
    override = forms.BooleanField(
        required=False, label="Lead override: log past 100% of the budget"
    )

    def __init__(self, *args: Any, projects: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]
        self.fields["deliverable"].queryset = Deliverable.objects.filter(  # type: ignore[attr-defined]
            project__in=projects
        )

    def entry_data(self) -> EntryData:
        c = self.cleaned_data
        return EntryData(
            project=c["project"],
            deliverable=c["deliverable"],
            date=c["date"],
            hours=c["hours"],
            billable=c["billable"],
            note=c["note"],
            private_note=c["private_note"],
        )
