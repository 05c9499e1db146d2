"""The Docker target: pulumi-docker resources for a local stack."""
