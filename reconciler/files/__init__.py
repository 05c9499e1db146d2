"""Reading model files: YAML (fast and strict readers), which files are models, the schema check, typed conversion."""
