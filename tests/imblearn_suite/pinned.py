"""The one list of imbalanced-learn tests that do not apply to equipoise as they are written.

Each entry: test id (its path inside imbalanced-learn, then its name) -> (reason, the test of ours
that shows that everything else the imbalanced-learn test asserts holds for equipoise). The suite
marks them as strict expected failures: if one starts to pass, the run fails and the entry must go.

The reasons are the differences on purpose listed in the README ("What differs on purpose"):
- DRAWS: the test compares the output with the rows imbalanced-learn's generator (numpy's
  RandomState) draws for its seed; equipoise draws with its own (seed, class, chunk) streams, so
  the same seed gives other, equally valid, rows. Everything else (class counts and order of the
  labels, the input rows first, new rows on the allowed segments, rows picked from the right class,
  the output's type) is checked against imbalanced-learn's sampler run on the same data.
- AUTO: equipoise's ``SMOTENC(categorical_features='auto')`` also detects the string columns of
  pandas object columns and numpy object arrays (an addition), where imbalanced-learn only takes
  pandas ``category`` columns and refuses numpy arrays.
"""

DRAWS = "pins imbalanced-learn's random draws for its seed"
AUTO = "expects 'auto' to refuse string columns that equipoise's 'auto' detects"
OURS = "tests/test_imblearn_pinned.py::"
ROS = "over_sampling/tests/test_random_over_sampler.py"

PINNED: dict[str, tuple[str, str]] = {
    **{
        f"over_sampling/_smote/tests/test_smote.py::{name}": (DRAWS, OURS + "test_smote_like")
        for name in (
            "test_sample_regular",
            "test_sample_regular_half",
            "test_sample_regular_with_nn",
        )
    },
    **{
        f"over_sampling/tests/test_adasyn.py::{name}": (DRAWS, OURS + "test_smote_like")
        for name in ("test_ada_fit_resample", "test_ada_fit_resample_nn_obj")
    },
    **{
        f"{ROS}::test_ros_fit_resample[{kind}-params{i}]": (
            DRAWS,
            OURS + "test_random_over_sampler",
        )
        for kind in ("array", "dataframe")
        for i in range(3)
    },
    **{
        f"under_sampling/_prototype_selection/tests/test_random_under_sampler.py::{name}": (
            DRAWS,
            OURS + "test_random_under_sampler",
        )
        for name in (
            "test_rus_fit_resample[dataframe]",
            "test_rus_fit_resample[array]",
            "test_rus_fit_resample_half",
        )
    },
    **{
        f"combine/tests/test_smote_enn.py::{name}": (DRAWS, OURS + "test_smote_then_clean")
        for name in (
            "test_sample_regular",
            "test_sample_regular_pass_smote_enn",
            "test_sample_regular_half",
            "test_validate_estimator_init",
            "test_validate_estimator_default",
        )
    },
    **{
        f"combine/tests/test_smote_tomek.py::{name}": (DRAWS, OURS + "test_smote_then_clean")
        for name in (
            "test_sample_regular",
            "test_sample_regular_half",
            "test_validate_estimator_init",
            "test_validate_estimator_default",
        )
    },
    "over_sampling/_smote/tests/test_smote_nc.py::test_smote_nc_categorical_features_auto_error": (
        AUTO,
        OURS + "test_smotenc_auto_errors",
    ),
}

#: Tests that fail on imbalanced-learn itself under this project's ``filterwarnings = error``
#: because scikit-learn warns inside them (nothing a sampler controls): that warning is ignored
#: for them, every assertion still runs.
SKLEARN_WARNINGS: dict[str, str] = {
    # LogisticRegression's lbfgs stops at max_iter on the test's unscaled data.
    "tests/test_pipeline.py::test_pipeline_memory_transformer": (
        "ignore::sklearn.exceptions.ConvergenceWarning"
    ),
    # BaggingClassifier's out-of-bag decision divides by zero for rows never left out.
    "ensemble/tests/test_bagging.py::test_oob_score_classification": (
        "ignore:invalid value encountered in divide:RuntimeWarning"
    ),
}
