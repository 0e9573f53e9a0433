from typing import Any

from django import forms

from collaboration.models import MapRequest
from projects.models import ServiceAgreement


class MapRequestForm(forms.Form):
    agreement = forms.ModelChoiceField(queryset=ServiceAgreement.objects.none(), label="Agreement")
    title = forms.CharField(max_length=200)
    need = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label="What you need and why")
    needed_by = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Needed by"
    )
    priority = forms.ChoiceField(
        choices=MapRequest.Priority.choices, initial=MapRequest.Priority.NORMAL
    )
    area_source = forms.ChoiceField(
        choices=MapRequest.AreaSource.choices,
        required=False,
        widget=forms.RadioSelect,
        label="Area",
    )
    area_geojson = forms.CharField(required=False, widget=forms.HiddenInput)
    area_file = forms.FileField(required=False, label="Area as a GeoJSON file")

    def __init__(self, *args: Any, agreements: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agreement"].queryset = agreements  # type: ignore[attr-defined]
        if agreements.count() == 1:
            self.fields["agreement"].initial = agreements.first()
