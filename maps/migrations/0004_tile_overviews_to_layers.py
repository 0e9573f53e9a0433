"""Tile overviews moved to layers (layers/0004); state only, the tables stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("maps", "0003_tile_overview_properties"), ("layers", "0004_tile_overviews_from_maps")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="TileOverview"),
                migrations.DeleteModel(name="TileOverviewState"),
            ],
            database_operations=[],
        )
    ]
