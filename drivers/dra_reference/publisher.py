"""Keeping a publisher's ResourceSlices in the API server equal to what it has found.

A pool's slices are rewritten only when their content changed, and then all of them get the
pool's next generation: the scheduler uses only the slices of a pool's newest generation and
waits until it has ``resourceSliceCount`` of them, so a half-written update is never
mistaken for the whole pool. New-generation slices are written first and leftovers deleted
last. Slices of pools this publisher no longer has are deleted. Unchanged content means no
writes at all, so a restart or a resync with the same hardware leaves the slices alone.

The publisher sees only its own slices: the node plugin those with its ``nodeName``, the
camera controller those with its label. ``watch`` reports when anyone else changes or deletes
them: the kubelet deletes its node's slices when it starts, and they must come back at once,
not at the next resync.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from dra_reference.discovery.model import Device
from dra_reference.errors import TemporaryError
from dra_reference.kube import KubeAPI, path
from dra_reference.slices import Pool, Slice, build_pool

log = logging.getLogger(__name__)
PUBLISHER_LABEL = "dra.fakehw.dev/publisher"
SLICES = path("resource.k8s.io/v1", "resourceslices")


class PublishError(TemporaryError):
    """The API server refused or did not answer; the next resync tries again."""


class SlicePublisher:
    """Publishes pools for one driver through ``api``; its own slices are those with
    ``node_name`` (a node's plugin) or with its ``label`` (a controller)."""

    def __init__(self, api: KubeAPI, driver: str, *, node_name: str = "",
                 label: str = "", timeout: float = 10.0) -> None:
        self._api = api
        self._driver = driver
        self._selectors = {"fieldSelector": f"spec.driver={driver}" + (
            f",spec.nodeName={node_name}" if node_name else "")}
        if label:
            self._selectors["labelSelector"] = f"{PUBLISHER_LABEL}={label}"
        self._label = label
        self._timeout = timeout

    def publish(self, pools: Sequence[tuple[Pool, list[Device]]]) -> int:
        """Make the API server show exactly ``pools``; return how many pools were rewritten."""
        try:
            existing = self._existing()
            rewritten = sum(self._publish_pool(pool, devices, existing.pop(pool.name, []))
                            for pool, devices in pools)
            for name, stale in sorted(existing.items()):
                log.info("deleting the %d slices of pool %s, which is gone", len(stale), name)
                self._delete(stale)
        except PublishError:
            raise
        except Exception as exc:  # ApiError, urllib3 errors, timeouts, odd answers
            raise PublishError(f"publishing ResourceSlices of {self._driver}: {exc}") from exc
        return rewritten

    def watch(self, stop: threading.Event, changed: threading.Event,
              window_seconds: int = 10) -> None:
        """Until ``stop``: set ``changed`` whenever one of this publisher's slices is modified
        or deleted (its own writes included: republishing unchanged content writes nothing).
        Each watch starts at the resourceVersion of a fresh list, so no event between two
        watches is lost; a failing API server is retried every few seconds."""
        while not stop.is_set():
            try:
                listed = self._api.get(SLICES, query=self._selectors, timeout=self._timeout)
                version = str((listed.get("metadata") or {}).get("resourceVersion") or "")
                query = {**self._selectors, "resourceVersion": version,
                         "timeoutSeconds": str(window_seconds), "allowWatchBookmarks": "false"}
                for event in self._api.watch(SLICES, query=query,
                                             timeout=window_seconds + self._timeout):
                    if event["type"] in ("MODIFIED", "DELETED"):
                        changed.set()
                    if stop.is_set():
                        break
            except Exception as exc:  # ApiError (410 Gone included), connection errors
                log.debug("watching ResourceSlices of %s: %s", self._driver, exc)
                stop.wait(2.0)

    def labelled(self, pool: Pool) -> Pool:
        """The pool with this publisher's label, so that it finds its slices again."""
        extra = ((PUBLISHER_LABEL, self._label),) if self._label else ()
        return replace(pool, labels=(*pool.labels, *extra))

    def _publish_pool(self, pool: Pool, devices: list[Device], current: list[Slice]) -> int:
        pool = self.labelled(pool)
        generation = max((s["spec"]["pool"]["generation"] for s in current), default=0)
        if generation and self._same(current, build_pool(replace(pool, generation=generation),
                                                         devices)):
            return 0
        wanted = build_pool(replace(pool, generation=generation + 1), devices)
        by_name = {s["metadata"]["name"]: s for s in current}
        for body in wanted:
            name = body["metadata"]["name"]
            if name in by_name:
                body["metadata"]["resourceVersion"] = (
                    by_name.pop(name)["metadata"]["resourceVersion"])
                self._api.replace(path("resource.k8s.io/v1", "resourceslices", name), body,
                                  timeout=self._timeout)
            else:
                self._api.create(SLICES, body, timeout=self._timeout)
        self._delete(list(by_name.values()))
        log.info("published pool %s generation %d: %d devices in %d slices", pool.name,
                 generation + 1, len(devices), len(wanted))
        return 1

    def _existing(self) -> dict[str, list[Slice]]:
        listed = self._api.get(SLICES, query=self._selectors, timeout=self._timeout)
        pools: dict[str, list[Slice]] = {}
        for item in listed.get("items") or []:
            pools.setdefault(item["spec"]["pool"]["name"], []).append(item)
        return pools

    def _same(self, current: list[Slice], wanted: list[Slice]) -> bool:
        have = {s["metadata"]["name"]: _comparable(s) for s in current}
        return have == {body["metadata"]["name"]: _comparable(body) for body in wanted}

    def _delete(self, stale: list[Slice]) -> None:
        for item in stale:
            self._api.delete(path("resource.k8s.io/v1", "resourceslices",
                                  item["metadata"]["name"]), timeout=self._timeout)


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    """What the publisher decides; fields the API server fills in are left out."""
    metadata = body.get("metadata", {})
    spec = dict(body.get("spec", {}))
    spec["devices"] = [_device(device) for device in spec.get("devices") or []]
    return {"labels": metadata.get("labels") or {},
            "ownerReferences": metadata.get("ownerReferences") or [], "spec": spec}


def _device(device: dict[str, Any]) -> dict[str, Any]:
    taints = [{k: v for k, v in taint.items() if k != "timeAdded"}
              for taint in device.get("taints") or []]
    return {**device, "taints": taints}
