"""cdk-nag (AwsSolutions) and cfn-lint on the synthesised templates."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint

from infra.nag import REASONS
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra


def nag_report(synthesized: Synthesized) -> dict[str, object]:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    (aws_solutions,) = [r for r in report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    return aws_solutions


def test_cdk_nag_finds_no_unacknowledged_violation(synthesized: Synthesized) -> None:
    report = nag_report(synthesized)
    assert report["conclusion"] == "success"
    assert report["violations"] == []


def test_every_acknowledgement_carries_a_recorded_reason(synthesized: Synthesized) -> None:
    suppressed = nag_report(synthesized).get("suppressedViolations", [])
    assert suppressed
    recorded = set(REASONS.values())
    for violation in suppressed:  # type: ignore[attr-defined]
        assert violation["reason"] in recorded, violation["ruleName"]
        assert len(violation["reason"]) > 40


def test_no_acknowledgement_is_stale(synthesized: Synthesized) -> None:
    used = {violation["reason"] for violation in nag_report(synthesized).get("suppressedViolations", [])}  # type: ignore[attr-defined]
    stale = [key for key, reason in REASONS.items() if reason not in used and not key.startswith("Annotation::")]
    assert stale == []


def test_cfn_lint_reports_no_errors(synthesized: Synthesized) -> None:
    config = ManualArgs(regions=[synthesized.built.platform.region])
    for template in synthesized.template_files():
        errors = [m for m in lint(template.read_text(), config=config) if m.rule.id.startswith("E")]
        assert errors == [], f"{template.name}: " + "\n".join(str(e) for e in errors)
