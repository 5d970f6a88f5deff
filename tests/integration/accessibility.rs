//! Accessibility checks in the real browser: axe-core (npm, pinned by `tests/peers/node/package-lock.json`,
//! installed by `scripts/deps`) run by `tests/peers/chromium.py` on the page a tab shows, with the WCAG 2.1
//! level A and AA rules (axe tags `wcag2a`, `wcag2aa`, `wcag21a`, `wcag21aa`). A test fails on any serious or
//! critical violation, listing each (rule, impact, element, what to fix); minor and moderate ones are
//! printed, not failed (issue #26: "no serious or critical violations").

use serde_json::{Value, json};

use crate::browser::Chromium;

/// Runs axe-core on the page of `tab` (`main` or `popup`) and fails, naming the page `what`, on any serious or
/// critical WCAG 2.1 A/AA violation. Returns the violations that did not fail the test.
pub(crate) fn assert_wcag21_aa(browser: &mut Chromium, tab: &str, what: &str) -> Vec<Value> {
    let report = browser.cmd(json!({"cmd": "axe", "tab": tab}));
    let violations = report["violations"].as_array().cloned().unwrap_or_default();
    let (failing, other): (Vec<Value>, Vec<Value>) =
        violations.into_iter().partition(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")));
    for v in &other {
        eprintln!("axe-core {} on {what}: {} ({}): {}", report["version"], v["id"], v["impact"], v["help"]);
    }
    assert!(
        failing.is_empty(),
        "axe-core {} found {} serious or critical WCAG 2.1 AA violation(s) on {what}:\n{}",
        report["version"],
        failing.len(),
        failing.iter().map(describe).collect::<Vec<_>>().join("\n")
    );
    assert!(report["passes"].as_u64().unwrap_or_default() > 0, "axe-core checked nothing on {what}: {report}");
    other
}

/// One violation as a failure lists it: rule id, impact, the elements (CSS selectors), the fix.
fn describe(v: &Value) -> String {
    let nodes = v["nodes"].as_array().map(Vec::as_slice).unwrap_or_default();
    let targets: Vec<String> = nodes.iter().map(|n| n["target"].to_string()).collect();
    let summary = nodes.first().and_then(|n| n["failureSummary"].as_str()).unwrap_or_default();
    format!(
        "  - {} ({}) at {}: {} — {}\n    {}",
        v["id"].as_str().unwrap_or_default(),
        v["impact"].as_str().unwrap_or_default(),
        targets.join(", "),
        v["help"].as_str().unwrap_or_default(),
        v["helpUrl"].as_str().unwrap_or_default(),
        summary.replace('\n', "\n    ")
    )
}
