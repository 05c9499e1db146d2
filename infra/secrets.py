"""Every password is generated here (pulumi-random) or taken from secret config: none is written down."""

from __future__ import annotations

import pulumi
import pulumi_random as random


def generated(name: str, parent: pulumi.Resource | None = None, length: int = 32) -> pulumi.Output[str]:
    """A random password, stored encrypted in the stack state; alphanumeric so it is URI-safe."""
    password = random.RandomPassword(name, length=length, special=False, opts=pulumi.ResourceOptions(parent=parent))
    return pulumi.Output.secret(password.result)


def from_secret_config(key: str) -> pulumi.Output[str]:
    """A value the operator set with `pulumi config set --secret KEY ...` (fails if unset)."""
    return pulumi.Config().require_secret(key)
