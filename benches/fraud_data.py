"""The fraud-like data under its old import path, ``benches.fraud_data.fraud`` /
``fraud_multiclass``. The generator is ``equipoise.datasets.make_fraud`` /
``make_fraud_multiclass``; nothing in benches/ or tests/ imports this module any more, and it can
be deleted once no branch in flight does.
"""

from equipoise.datasets import make_fraud as fraud
from equipoise.datasets import make_fraud_multiclass as fraud_multiclass
from equipoise.datasets._synthetic import N_FEATURES

__all__ = ["N_FEATURES", "fraud", "fraud_multiclass"]
