"""Events of layers that apps above it may observe (usage counts), without layers knowing them.

`layer_version_downloaded` is sent with `version` (a LayerVersion) and `user` after a download
was written.
"""

from django.dispatch import Signal

layer_version_downloaded = Signal()
