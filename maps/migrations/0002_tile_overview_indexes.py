from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("maps", "0001_initial")]

    operations = [
        # btree_gist is a trusted extension: one GiST index answers "this version, this zoom, this box".
        migrations.RunSQL(
            "CREATE EXTENSION IF NOT EXISTS btree_gist;"
            "CREATE INDEX maps_overview_vzg ON maps_tileoverview USING gist (version_id, zoom, geom);"
            "ALTER TABLE maps_tileoverview ADD CONSTRAINT maps_overview_version_fk "
            "FOREIGN KEY (version_id) REFERENCES layers_layerversion (id) ON DELETE CASCADE;",
            "DROP INDEX IF EXISTS maps_overview_vzg;"
            "ALTER TABLE maps_tileoverview DROP CONSTRAINT IF EXISTS maps_overview_version_fk;",
        ),
    ]
