"""JUnit XML for `check --junit-xml` and `report --junit-xml`: one testcase per record; failures for failed
positives and missed negative controls; errors for claims whose run raised."""
from __future__ import annotations

import pathlib
import xml.etree.ElementTree as ET

from minimacheck.contract import outcome_ok


def write(path, records, *, suite: str = "minimacheck", errors: dict | None = None) -> pathlib.Path:
    cases = []
    seen: dict[str, int] = {}
    for r in records:
        base = f"{r.kind}-{r.check}"
        seen[base] = seen.get(base, 0) + 1
        tc = ET.Element("testcase", classname=r.part or r.claim, name=f"{base}-{seen[base]}")
        if not outcome_ok(r):
            what = "negative control missed" if r.kind != "positive" else "claim failed"
            f = ET.SubElement(tc, "failure", message=f"{what}: {r.reason}"[:500], type=what)
            f.text = f"headroom {r.headroom}; {r.reason}"
        elif r.kind == "positive" and r.passed is None:
            ET.SubElement(tc, "skipped", message=f"not decided: {r.reason}"[:500])
        ET.SubElement(tc, "system-out").text = r.extra.get("work_item", "") if isinstance(r.extra, dict) else ""
        cases.append(tc)
    for name, text in (errors or {}).items():
        tc = ET.Element("testcase", classname=name, name="run")
        ET.SubElement(tc, "error",
                      message=str(text).strip().splitlines()[-1][:500] if str(text).strip() else "error").text = str(text)
        cases.append(tc)
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errs = sum(1 for c in cases if c.find("error") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    root = ET.Element("testsuites")
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(cases)), failures=str(failures), errors=str(errs),
                       skipped=str(skipped))
    ts.extend(cases)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
