"""The stance model: features, NB-SVM scorer, calibration, fold splits, estimator, training,
evaluation and the model registry."""
