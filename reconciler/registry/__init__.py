"""Reading and writing the registry: targets, sessions, REST, the readers, live state and MLflow's name rules."""
