"""Reports from records: the model, statistics, terminal, JUnit and HTML."""
