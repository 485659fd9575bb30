"""The benchmarks' fraud-like data: ``equipoise.datasets.make_fraud`` and
``make_fraud_multiclass`` under the names the benchmark scripts use (the generator lives in the
package so that the tests use the same one without importing from ``benches/``)."""

from equipoise.datasets._synthetic import N_FEATURES
from equipoise.datasets._synthetic import make_fraud as fraud
from equipoise.datasets._synthetic import make_fraud_multiclass as fraud_multiclass

__all__ = ["N_FEATURES", "fraud", "fraud_multiclass"]
