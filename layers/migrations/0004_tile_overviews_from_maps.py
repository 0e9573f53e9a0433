"""Tile overviews belong to layers now (layers/tiles/); the tables keep their maps_ names.

State only: the tables were created by maps/0001 and stay where they are.
"""

import django.contrib.gis.db.models.fields
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("layers", "0003_feature_no_fk")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="TileOverviewState",
                    fields=[
                        (
                            "version",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="+",
                                serialize=False,
                                to="layers.layerversion",
                            ),
                        ),
                        (
                            "max_zoom",
                            models.SmallIntegerField(
                                help_text="-1 when the layer needs no overview."
                            ),
                        ),
                        ("built_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={"db_table": "maps_tileoverviewstate"},
                ),
                migrations.CreateModel(
                    name="TileOverview",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("zoom", models.PositiveSmallIntegerField()),
                        ("fid", models.BigIntegerField()),
                        (
                            "geom",
                            django.contrib.gis.db.models.fields.GeometryField(
                                help_text="EPSG:3857.", spatial_index=False, srid=3857
                            ),
                        ),
                        ("properties", models.JSONField(default=dict)),
                        (
                            "version",
                            models.ForeignKey(
                                db_constraint=False,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="layers.layerversion",
                            ),
                        ),
                    ],
                    options={"db_table": "maps_tileoverview"},
                ),
            ],
            database_operations=[],
        )
    ]
