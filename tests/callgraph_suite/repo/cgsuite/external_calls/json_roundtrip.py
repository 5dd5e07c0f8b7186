"""json.dumps and json.loads."""

import json


def roundtrip(data):
    return json.loads(json.dumps(data))


roundtrip({"a": 1})
