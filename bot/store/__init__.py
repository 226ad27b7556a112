"""Storage: models, the database and its migrations, the repository and the outbox."""
