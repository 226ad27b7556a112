"""The application: composition root, CLI, pipeline, schedule, metrics, status, logs."""
