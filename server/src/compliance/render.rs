//! The report as JSON (the typed evidence beside the worded items) or as HTML: the body the console puts in its
//! layout, or a whole document for the CLI's `--out` and the admin API.

use super::assess::Report;
use super::evidence::Scope;
use super::item::{Item, Status};
use hcpki_html::{Head, Lang};
use maud::{Markup, PreEscaped, html};

hcpki_html::messages! {
    Title => "安全管理ガイドライン適合レポート", "Safety guideline compliance report";
    Lead => "厚生労働省「医療情報システムの安全管理に関するガイドライン 第6.0版」と令和7年度の医療機関におけるサイバーセキュリティ対策チェックリストのうち hcpki が担う項目について、このシステムの現在の記録を根拠に状況を示します。「医療機関の対応事項」は hcpki では完結しない、医療機関自身が行う事項です。",
        "For the items of MHLW's safety guideline for medical information systems (6.0) and the FY2025 cyber-security checklist for medical institutions that hcpki serves: where this installation stands, with its live records as evidence. \"Facility's duty\" marks what the facility must still do itself.";
    Generated => "作成日時", "Generated";
    Scope => "対象", "Scope";
    Installation => "システム全体", "the whole installation";
    Facility => "施設", "facility";
    Summary => "集計", "Summary";
    Items => "ガイドライン・チェックリストの項目", "Guideline and checklist items";
    Disclosure => "サービス仕様適合開示書に記入できる項目", "Vendor disclosure items hcpki fills";
    Source => "出典", "Source";
    Status => "状況", "Status";
    Evidence => "根拠(このシステムの記録)", "Evidence (this installation's records)";
    ToDo => "医療機関が行うこと", "What the facility must do";
    Json => "JSON で取得", "Get as JSON";
}

/// The report as JSON.
pub fn json(report: &Report) -> serde_json::Value {
    serde_json::to_value(report).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }))
}

/// The report's title in `lang`.
pub fn title(lang: Lang) -> &'static str {
    M::Title.text(lang)
}

/// The report as a whole HTML document (the CLI's file, the admin API's `text/html`), the shared stylesheet
/// inline so that the file reads on its own.
pub fn document(report: &Report, lang: Lang) -> String {
    let head = Head {
        lang: lang.code(),
        title: M::Title.text(lang),
        meta: html! { meta name="viewport" content="width=device-width, initial-scale=1"; },
        assets: html! { style { (PreEscaped(hcpki_html::STYLESHEET)) } },
    };
    let body = html! { body { main id="main" { h1 { (M::Title.text(lang)) } (body(report, lang)) } } };
    hcpki_html::document(head, body).into_string()
}

/// The report's body: what it covers, a summary by status, then every item.
pub fn body(report: &Report, lang: Lang) -> Markup {
    let t = |m: M| m.text(lang);
    let e = &report.evidence;
    let all: Vec<&Item> = report.items.iter().chain(&report.disclosure).collect();
    let count = |s: Status| all.iter().filter(|i| i.status == s).count();
    html! {
        p { (t(M::Lead)) }
        dl id="compliance-facts" {
            dt { (t(M::Generated)) } dd { (crate::portal::jst(e.generated_at, lang)) }
            dt { (t(M::Scope)) }
            dd id="compliance-scope" {
                @match &e.scope {
                    Scope::Installation => (t(M::Installation)),
                    Scope::Facility(f) => { (t(M::Facility)) " " code { (f) } }
                }
            }
            dt { (t(M::Summary)) }
            dd id="compliance-summary" {
                @for s in [Status::Met, Status::NotMet, Status::FacilityDuty, Status::Unknown] {
                    span class={ "badge " (s.as_str()) } data-status=(s.as_str()) { (s.words(lang)) " " (count(s)) } " "
                }
            }
        }
        section aria-labelledby="compliance-items" {
            h2 id="compliance-items" { (t(M::Items)) }
            @for item in &report.items { (item_html(item, lang)) }
        }
        section aria-labelledby="compliance-disclosure" {
            h2 id="compliance-disclosure" { (t(M::Disclosure)) }
            @for item in &report.disclosure { (item_html(item, lang)) }
        }
    }
}

/// The link to the same report as JSON (the console page shows it).
pub fn json_link(href: &str, lang: Lang) -> Markup {
    html! { p { a href=(href) id="compliance-json" { (M::Json.text(lang)) } } }
}

fn item_html(item: &Item, lang: Lang) -> Markup {
    let t = |m: M| m.text(lang);
    let heading = format!("item-{}", item.id.replace('.', "-"));
    html! {
        article class="compliance-item" id=(item.id) data-status=(item.status.as_str()) aria-labelledby=(heading) {
            h3 id=(heading) { (item.title) }
            dl {
                dt { (t(M::Status)) }
                dd { span class={ "badge " (item.status.as_str()) } { (item.status.words(lang)) } }
                dt { (t(M::Source)) } dd { (item.source) }
                dt { (t(M::Evidence)) }
                dd { ul class="evidence" { @for line in &item.evidence { li { code class="wrap" { (line) } } } } }
                dt { (t(M::ToDo)) } dd { (item.to_do) }
            }
        }
    }
}
