"""Every feature lives in its version's own partition; the default partition goes.

A default partition forbids `DETACH PARTITION … CONCURRENTLY` and makes every ATTACH lock and scan
it, so deleting a layer could only take ACCESS EXCLUSIVE on `layers_feature` and freeze every
map's tiles (issue 11). Rows written there by SQL (generated demo layers) move to a partition
of their own version. Django's collector no longer deletes features row by row (DO_NOTHING, no
database FK since 0003): layers/partitions.py retires a deleted version's partition.
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
DO $$
DECLARE vid bigint;
BEGIN
  IF to_regclass('layers_feature_default') IS NULL THEN
    RETURN;
  END IF;
  ALTER TABLE layers_feature DETACH PARTITION layers_feature_default;
  FOR vid IN SELECT DISTINCT version_id FROM layers_feature_default LOOP
    EXECUTE format(
      'CREATE TABLE layers_feature_p%s (LIKE layers_feature INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
      vid);
    EXECUTE format(
      'INSERT INTO layers_feature_p%s SELECT * FROM layers_feature_default WHERE version_id = %s',
      vid, vid);
    EXECUTE format(
      'ALTER TABLE layers_feature_p%s ADD CONSTRAINT layers_feature_p%s_vid CHECK (version_id = %s)',
      vid, vid, vid);
    EXECUTE format(
      'ALTER TABLE layers_feature ATTACH PARTITION layers_feature_p%s FOR VALUES IN (%s)', vid, vid);
  END LOOP;
  DROP TABLE layers_feature_default;
END $$;
"""
BACKWARD = "CREATE TABLE IF NOT EXISTS layers_feature_default PARTITION OF layers_feature DEFAULT"


class Migration(migrations.Migration):
    dependencies = [("layers", "0004_tile_overviews_from_maps")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="feature",
                    name="version",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="features",
                        to="layers.layerversion",
                    ),
                ),
            ],
        ),
    ]
