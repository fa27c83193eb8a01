"""Validates CycloneDX 1.6 JSON files the way TOOLS.md says: the strict JSON schema, then
cyclonedx-python-lib's model (dangling dependency refs, duplicate bom-refs). Any warning the
model raises counts as a failure too. Exit 0 only when every file passes."""
import json
import sys
import warnings

from cyclonedx.model.bom import Bom
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

warnings.simplefilter("error")
failed = False
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    errors = JsonStrictValidator(SchemaVersion.from_version("1.6")).validate_str(text, all_errors=True)
    if errors is not None:
        print(f"{path}: schema errors:")
        for error in errors:
            print(f"  {str(error)[:2000]}")
        failed = True
        continue
    try:
        bom = Bom.from_json(json.loads(text))
        bom.validate()
    except Exception as e:  # noqa: BLE001 - report whatever the model refuses
        print(f"{path}: model error: {type(e).__name__}: {e}")
        failed = True
        continue
    print(f"{path}: valid ({len(bom.components)} components)")
sys.exit(1 if failed else 0)
