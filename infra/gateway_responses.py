"""Prints the template's API Gateway gateway responses as JSON, for the server's tests:
[{"name", "type", "status" (or null), "headers": {name: value}, "body"}]."""
import json
import pathlib
import sys

from cfnlint.decode import decode

template_path = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).with_name("template.yaml")
template, errors = decode(str(template_path))
if errors:
    sys.exit(f"{template_path}: {errors}")
out = []
for name, resource in template["Resources"].items():
    if resource["Type"] != "AWS::ApiGateway::GatewayResponse":
        continue
    props = resource["Properties"]
    prefix = "gatewayresponse.header."
    out.append({
        "name": name,
        "type": props["ResponseType"],
        "status": props.get("StatusCode"),
        "headers": {k[len(prefix):]: v.strip("'") for k, v in props.get("ResponseParameters", {}).items()
                    if k.startswith(prefix)},
        "body": props["ResponseTemplates"]["application/json"],
    })
json.dump(out, sys.stdout, indent=1)
