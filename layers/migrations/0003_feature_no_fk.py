"""Drop the database FK from features to versions.

Attaching a partition that carries the FK takes SHARE ROW EXCLUSIVE on layers_layerversion, which
waits for every other open import (each inserted a version row): two concurrent imports deadlocked.
Versions own their partition (dropped with the layer) and Django's collector still cascades rows
of the default partition, so integrity is kept by the one writer, layers.services.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("layers", "0002_feature_partitions")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE layers_feature DROP CONSTRAINT IF EXISTS layers_feature_version_id_fkey",
            "ALTER TABLE layers_feature ADD CONSTRAINT layers_feature_version_id_fkey FOREIGN KEY "
            "(version_id) REFERENCES layers_layerversion (id) DEFERRABLE INITIALLY DEFERRED",
        )
    ]
