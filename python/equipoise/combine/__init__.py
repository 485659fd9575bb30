"""Combined samplers: SMOTE over-sampling followed by a cleaning step."""

from equipoise.combine._smote_enn import SMOTEENN, SMOTETomek

__all__ = ["SMOTEENN", "SMOTETomek"]
