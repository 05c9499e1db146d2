"""The Kubernetes target: typed pulumi-kubernetes resources (no opaque Helm releases)."""
