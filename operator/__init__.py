"""Track's Kubernetes operator: groups container restarts by failure signature.

Run it with the ``track-operator`` console script or ``kopf run -m track_operator``.
"""

from track_operator import handlers as handlers  # noqa: F401  (registers the kopf handlers)
