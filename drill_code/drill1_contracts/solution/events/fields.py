"""How the API writes money and time. One place, so every serializer says it the same way.

Both types carry their schema, so the schema drf-spectacular
generates promises what the contract promises, and the audit can compare the two.
"""

import datetime
from decimal import Decimal

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

UTC_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"
MONEY_PATTERN = r"^\d{1,6}\.\d{2}$"


class UtcDateTimeField(serializers.DateTimeField):
    """A timestamp written in UTC with a `Z`, whatever settings.TIME_ZONE says.

    DRF writes datetimes in the *current* time zone (settings.TIME_ZONE unless activated
    otherwise), so a project that runs its admin in Europe/Berlin would send `+02:00`
    offsets. The contract promises UTC; `default_timezone` pins the API to it without
    changing what the admin shows. DRF turns a `+00:00` suffix into `Z`.
    https://www.django-rest-framework.org/api-guide/fields/#datetimefield
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", datetime.UTC)
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "format": "decimal", "pattern": MONEY_PATTERN})
class MoneyField(serializers.DecimalField):
    """An amount as an exact decimal string ("25.00"), never a JSON number.

    JSON numbers are binary floats in most clients (0.1 + 0.2 != 0.3 in JavaScript), so
    money travels as a string; that is also DRF's default (COERCE_DECIMAL_TO_STRING).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 8)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)


class UtcDateTimeFieldSchema(OpenApiSerializerFieldExtension):
    """The schema of UtcDateTimeField: any RFC 3339 timestamp in, UTC with `Z` out."""

    target_class = UtcDateTimeField

    def map_serializer_field(self, auto_schema, direction):
        schema = build_basic_type(OpenApiTypes.DATETIME)
        if direction == "response":
            schema["pattern"] = UTC_PATTERN
        return schema
