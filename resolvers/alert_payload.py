"""Parsing alert webhooks: Prometheus Alertmanager (version 4), Grafana alerting and our
generic format, into one shape. Pure functions; a refusal is an INVALID DomainError whose
message says what is wrong (the endpoint answers it as a 4xx)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from models.enums import IntegrationKind
from resolvers.errors import invalid

MAX_ALERTS = 1_000
KEY_MAX = 200
LABELS_MAX = 100
LABEL_NAME_MAX = 200
LABEL_VALUE_MAX = 1_000
SUMMARY_MAX = 300
DESCRIPTION_MAX = 5_000
STATUSES = ("firing", "resolved")
# Alertmanager's "zero" time for an unset endsAt.
_ZERO_YEAR = 1


@dataclass(frozen=True)
class Alert:
    """One alert notification, whatever format it came in."""

    key: str
    status: str  # "firing" | "resolved"
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    description: str = ""
    starts_at: str | None = None  # ISO 8601, UTC
    ends_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Alert:
        return cls(**data)


def parse(kind: IntegrationKind, body: Any) -> list[Alert]:
    """The alerts of one webhook body (already JSON-decoded) of the integration's kind."""
    if not isinstance(body, dict):
        raise invalid("The body must be a JSON object")
    if kind == IntegrationKind.ALERTMANAGER:
        version = body.get("version")
        if version != "4":
            raise invalid(f"Alertmanager webhook version {version!r} is not supported "
                          "(expected \"4\")", "version")
        return _grouped(body)
    if kind == IntegrationKind.GRAFANA:
        return _grouped(body)
    if "alerts" in body:
        items = body["alerts"]
        if not isinstance(items, list):
            raise invalid("alerts must be a list", "alerts")
        return _many(items, _generic)
    return [_generic(body, "")]


def _many(items: list[Any], one: Any) -> list[Alert]:
    if not items:
        raise invalid("alerts must not be empty", "alerts")
    if len(items) > MAX_ALERTS:
        raise invalid(f"At most {MAX_ALERTS} alerts per request", "alerts")
    return [one(item, f"alerts[{index}].") for index, item in enumerate(items)]


def _grouped(body: dict[str, Any]) -> list[Alert]:
    """Alertmanager's and Grafana's shape: alerts[] with status, labels, annotations,
    startsAt, endsAt and fingerprint."""
    items = body.get("alerts")
    if not isinstance(items, list):
        raise invalid("alerts must be a list", "alerts")
    return _many(items, _grouped_alert)


def _grouped_alert(item: Any, where: str) -> Alert:
    if not isinstance(item, dict):
        raise invalid(f"{where[:-1]} must be an object", "alerts")
    labels = _labels(item.get("labels"), f"{where}labels")
    annotations = _labels(item.get("annotations") or {}, f"{where}annotations")
    key = _key(item.get("fingerprint"), f"{where}fingerprint")
    name = labels.get("alertname") or key
    return Alert(
        key=key, status=_status(item.get("status"), f"{where}status"), name=name[:SUMMARY_MAX],
        labels=labels,
        summary=(annotations.get("summary") or annotations.get("title") or name)[:SUMMARY_MAX],
        description=annotations.get("description", "")[:DESCRIPTION_MAX],
        starts_at=_time(item.get("startsAt"), f"{where}startsAt"),
        ends_at=_time(item.get("endsAt"), f"{where}endsAt"),
    )


def _generic(item: Any, where: str) -> Alert:
    """{"key", "status": "firing"|"resolved", "labels", "summary", "description"}."""
    if not isinstance(item, dict):
        raise invalid(f"{where[:-1] or 'body'} must be an object", "alerts")
    key = _key(item.get("key"), f"{where}key")
    labels = _labels(item.get("labels") or {}, f"{where}labels")
    summary = _text(item.get("summary"), f"{where}summary")
    name = labels.get("alertname") or key
    return Alert(
        key=key, status=_status(item.get("status"), f"{where}status"), name=name[:SUMMARY_MAX],
        labels=labels, summary=(summary or name)[:SUMMARY_MAX],
        description=_text(item.get("description"), f"{where}description")[:DESCRIPTION_MAX],
    )


def _key(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{where} must be a non-empty string", where.rsplit(".", 1)[-1])
    if len(value) > KEY_MAX:
        raise invalid(f"{where} must be at most {KEY_MAX} characters",
                      where.rsplit(".", 1)[-1])
    return value.strip()


def _status(value: Any, where: str) -> str:
    if value not in STATUSES:
        raise invalid(f"{where} must be \"firing\" or \"resolved\", not {value!r}", "status")
    return str(value)


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid(f"{where} must be a string", where.rsplit(".", 1)[-1])
    return value.replace("\x00", "").strip()


def _labels(value: Any, where: str) -> dict[str, str]:
    name = where.rsplit(".", 1)[-1]
    if not isinstance(value, dict):
        raise invalid(f"{where} must be an object of strings", name)
    if len(value) > LABELS_MAX:
        raise invalid(f"{where} has more than {LABELS_MAX} entries", name)
    result: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str) or not k or len(k) > LABEL_NAME_MAX:
            raise invalid(f"{where} must map names to strings", name)
        result[k] = v.replace("\x00", "")[:LABEL_VALUE_MAX]
    return result


def _time(value: Any, where: str) -> str | None:
    """RFC 3339 → ISO 8601 in UTC; Alertmanager's zero time ("0001-01-01T00:00:00Z") → None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid(f"{where} must be an RFC 3339 time", where.rsplit(".", 1)[-1])
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Go writes nanoseconds; Python reads at most microseconds.
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"{where} must be an RFC 3339 time, not {value!r}",
                      where.rsplit(".", 1)[-1]) from None
    if parsed.tzinfo is None:
        raise invalid(f"{where} needs a time zone offset", where.rsplit(".", 1)[-1])
    if parsed.year <= _ZERO_YEAR:
        return None
    return parsed.astimezone(UTC).isoformat()
