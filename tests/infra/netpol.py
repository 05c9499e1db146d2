"""Kubernetes NetworkPolicy ingress semantics, mirrored (networking.k8s.io/v1, as CNIs enforce it),
to ask "may this pod reach that pod on this port?" of the policies a program declares.

Source: kubernetes/kubernetes staging/src/k8s.io/api/networking/v1/types.go (45d0fdda), the API's
definition of these semantics in the doc comments of NetworkPolicySpec (podSelector, policyTypes,
ingress: "traffic is allowed if it matches at least one rule across all of the NetworkPolicy objects
whose podSelector matches the pod"), NetworkPolicyIngressRule (empty `from`/`ports`: all sources /
ports), NetworkPolicyPeer (podSelector and namespaceSelector alone or together) and
NetworkPolicyPort (a named port matches the pod's container port of that name). Its examples are
the cases of tests/infra/test_network_policies.py::test_the_evaluator_follows_the_api_definition.

- A pod selected by no policy with policyType Ingress accepts everything; one selected by any
  accepts only what some rule of some selecting policy allows (policies are additive).
- A rule allows when one of its `from` peers matches (no `from`: any source) and one of its ports
  matches the destination port (no `ports`: any port). A named port is the container port's name.
- A peer with podSelector only: pods of the policy's namespace; namespaceSelector only: every pod
  of the matching namespaces; both: matching pods in matching namespaces. Every namespace carries
  the label kubernetes.io/metadata.name.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)  # named container ports
    namespace_labels: dict[str, str] = field(default_factory=dict)

    def namespace_matches(self, selector: dict[str, Any]) -> bool:
        return matches(selector, {"kubernetes.io/metadata.name": self.namespace, **self.namespace_labels})


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        present, value = expr["key"] in labels, labels.get(expr["key"])
        op = expr["operator"]
        if (op == "In" and value not in expr["values"]) or (op == "NotIn" and value in expr["values"]):
            return False
        if (op == "Exists" and not present) or (op == "DoesNotExist" and present):
            return False
    return True


def _peer_matches(peer: dict[str, Any], source: Pod, policy_namespace: str) -> bool:
    pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
    if namespaces is None and pods is not None:
        return source.namespace == policy_namespace and matches(pods, source.labels)
    if namespaces is not None:
        return source.namespace_matches(namespaces) and (pods is None or matches(pods, source.labels))
    return False  # ipBlock peers: not used for pod-to-pod traffic here


def _port_matches(rule_ports: list[dict[str, Any]] | None, destination: Pod, port: int) -> bool:
    if not rule_ports:
        return True
    for p in rule_ports:
        wanted = p.get("port")
        if p.get("protocol", "TCP") != "TCP":
            continue
        if wanted is None or wanted == port or destination.ports.get(str(wanted)) == port:
            return True
    return False


def allowed(policies: list[dict[str, Any]], source: Pod, destination: Pod, port: int) -> bool:
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == destination.namespace
        and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])
        and matches(p["spec"]["podSelector"], destination.labels)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress") or []:
            peers = rule.get("from")
            sources_ok = not peers or any(_peer_matches(pe, source, policy["metadata"]["namespace"]) for pe in peers)
            if sources_ok and _port_matches(rule.get("ports"), destination, port):
                return True
    return False


def _ip_matches(block: dict[str, Any], ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    network = ipaddress.ip_network(block["cidr"])
    if address.version != network.version or address not in network:
        return False
    return not any(
        address in ipaddress.ip_network(e)
        for e in block.get("except") or []
        if ipaddress.ip_network(e).version == address.version
    )


def egress_allowed(policies: list[dict[str, Any]], source: Pod, destination: Pod | str, port: int) -> bool:
    """Egress, the same way round (NetworkPolicySpec.egress, NetworkPolicyEgressRule `to`): a pod
    selected by no Egress policy may send anywhere; `destination` is a pod or an IP outside the
    cluster (NetworkPolicyPeer.ipBlock: in `cidr`, not in `except`)."""
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == source.namespace
        and "Egress" in p["spec"].get("policyTypes", [])
        and matches(p["spec"]["podSelector"], source.labels)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("egress") or []:
            peers = rule.get("to")
            if isinstance(destination, str):
                to_ok = not peers or any("ipBlock" in pe and _ip_matches(pe["ipBlock"], destination) for pe in peers)
                ports_ok = not rule.get("ports") or any(p.get("port") in (None, port) for p in rule["ports"])
            else:
                to_ok = not peers or any(
                    _peer_matches(pe, destination, policy["metadata"]["namespace"]) for pe in peers
                )
                ports_ok = _port_matches(rule.get("ports"), destination, port)
            if to_ok and ports_ok:
                return True
    return False
