"""Out-of-core resampling: Parquet (or CSV) tables larger than memory, streamed in Arrow record
batches through the same samplers as in memory, with bounded memory.

>>> from equipoise.io import resample_parquet                      # doctest: +SKIP
>>> resample_parquet("logs/", "balanced.parquet", label="is_fraud",  # doctest: +SKIP
...     steps=[RandomUnderSampler(sampling_strategy=0.1), SMOTE(random_state=0), TomekLinks()])
"""

from equipoise.io._engine import StreamReport, parse_memory, resample_parquet

__all__ = ["resample_parquet", "parse_memory", "StreamReport"]
