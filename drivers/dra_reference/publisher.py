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

from kubernetes.client import ApiClient, V1ResourceSlice

from dra_reference.discovery.model import Device
from dra_reference.errors import TemporaryError
from dra_reference.slices import Pool, Slice, build_pool

log = logging.getLogger(__name__)
PUBLISHER_LABEL = "dra.fakehw.dev/publisher"


class PublishError(TemporaryError):
    """The API server refused or did not answer; the next resync tries again."""


class SlicePublisher:
    """Publishes pools for one driver through ``api`` (a ``ResourceV1Api``); its own slices
    are those with ``node_name`` (a node's plugin) or with its ``label`` (a controller)."""

    def __init__(self, api: Any, driver: str, *, node_name: str = "",
                 label: str = "", timeout: float = 10.0) -> None:
        self._api = api
        self._driver = driver
        self._field_selector = f"spec.driver={driver}" + (
            f",spec.nodeName={node_name}" if node_name else "")
        self._label_selector = f"{PUBLISHER_LABEL}={label}" if label else None
        self._label = label
        self._timeout = timeout
        self._serializer: Any = ApiClient()  # its methods are untyped

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
        except Exception as exc:  # ApiException, urllib3 errors, timeouts
            raise PublishError(f"publishing ResourceSlices of {self._driver}: "
                               f"{getattr(exc, 'status', '')} {exc}".strip()) from exc
        return rewritten

    def watch(self, stop: threading.Event, changed: threading.Event,
              window_seconds: int = 10) -> None:
        """Until ``stop``: set ``changed`` whenever one of this publisher's slices is modified
        or deleted (its own writes included: republishing unchanged content writes nothing).
        Each watch starts at the resourceVersion of a fresh list, so no event between two
        watches is lost; a failing API server is retried every few seconds."""
        from kubernetes import watch  # noqa: PLC0415

        while not stop.is_set():
            stream: Any = watch.Watch()  # type: ignore[no-untyped-call]
            try:
                listed = self._api.list_resource_slice(
                    field_selector=self._field_selector, label_selector=self._label_selector,
                    _request_timeout=self._timeout)
                for event in stream.stream(
                        self._api.list_resource_slice, field_selector=self._field_selector,
                        label_selector=self._label_selector,
                        resource_version=listed.metadata.resource_version,
                        timeout_seconds=window_seconds,
                        _request_timeout=window_seconds + self._timeout):
                    if event["type"] in ("MODIFIED", "DELETED"):
                        changed.set()
                    if stop.is_set():
                        break
            except Exception as exc:  # ApiException (410 Gone included), connection errors
                log.debug("watching ResourceSlices of %s: %s", self._driver, exc)
                stop.wait(2.0)
            finally:
                stream.stop()

    def labelled(self, pool: Pool) -> Pool:
        """The pool with this publisher's label, so that it finds its slices again."""
        extra = ((PUBLISHER_LABEL, self._label),) if self._label else ()
        return replace(pool, labels=(*pool.labels, *extra))

    def _publish_pool(self, pool: Pool, devices: list[Device], current: list[Any]) -> int:
        pool = self.labelled(pool)
        generation = max((s.spec.pool.generation for s in current), default=0)
        if generation and self._same(current, build_pool(replace(pool, generation=generation),
                                                         devices)):
            return 0
        wanted = build_pool(replace(pool, generation=generation + 1), devices)
        by_name = {s.metadata.name: s for s in current}
        for body in wanted:
            name = body["metadata"]["name"]
            if name in by_name:
                body["metadata"]["resourceVersion"] = by_name.pop(name).metadata.resource_version
                self._api.replace_resource_slice(name, _model(body),
                                                 _request_timeout=self._timeout)
            else:
                self._api.create_resource_slice(_model(body), _request_timeout=self._timeout)
        self._delete(list(by_name.values()))
        log.info("published pool %s generation %d: %d devices in %d slices", pool.name,
                 generation + 1, len(devices), len(wanted))
        return 1

    def _existing(self) -> dict[str, list[Any]]:
        listed = self._api.list_resource_slice(field_selector=self._field_selector,
                                               label_selector=self._label_selector,
                                               _request_timeout=self._timeout)
        pools: dict[str, list[Any]] = {}
        for item in listed.items or []:
            pools.setdefault(item.spec.pool.name, []).append(item)
        return pools

    def _same(self, current: list[Any], wanted: list[Slice]) -> bool:
        serialize = self._serializer.sanitize_for_serialization
        have = {s.metadata.name: _comparable(serialize(s)) for s in current}
        return have == {body["metadata"]["name"]: _comparable(body) for body in wanted}

    def _delete(self, stale: list[Any]) -> None:
        for item in stale:
            self._api.delete_resource_slice(item.metadata.name, _request_timeout=self._timeout)


def _model(body: Slice) -> V1ResourceSlice:
    model = V1ResourceSlice.from_dict(body)
    if model is None:
        raise PublishError(f"the client refused slice {body['metadata']['name']}")
    return model


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
