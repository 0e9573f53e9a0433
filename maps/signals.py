"""Events of maps that apps above it may observe (usage counts), without maps knowing them.

`map_version_used` is sent with `version` (a MapVersion), `user` (may be anonymous), `kind`
("view", "export" or "share_view") and `share_link` (a ShareLink or None) once per viewer open
or export, never per tile.
"""

from django.dispatch import Signal

map_version_used = Signal()
