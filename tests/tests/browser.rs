//! The web pages in a real browser (headless Chromium from Debian's
//! packages): sign in, search without diacritics, filter, page, open a
//! record, see a province marked down when its node stops, sign out, and
//! keyboard and narrow-screen use. Screenshots at phone and desktop widths
//! land in `target/browser-screenshots/`.
//!
//! The pages ship no script and their Content-Security-Policy would block
//! one, so what a browser with JavaScript off gets is what is driven here
//! (the tests' own probes go through WebDriver, which the policy does not
//! govern).

use lienthong_gateway::auth::UserRole;
use lienthong_tests::browser::Browser;
use lienthong_tests::web::{PASSWORD, WebFederation};

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 900);
/// A 1280-pixel window at 200% zoom lays out as 640 CSS pixels.
const ZOOM_200: (u32, u32) = (640, 450);

/// The page is no wider than the window (no sideways scrolling).
async fn fits(browser: &Browser, what: &str) {
    let overflow = browser
        .evaluate(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
        )
        .await
        .as_i64()
        .unwrap_or(i64::MAX);
    assert!(overflow <= 0, "{what}: {overflow} px wider than the window");
}

async fn shots(browser: &Browser, name: &str) {
    browser.resize(PHONE.0, PHONE.1).await;
    fits(browser, &format!("{name} on a phone")).await;
    browser.screenshot(&format!("{name}-phone")).await;
    browser.resize(ZOOM_200.0, ZOOM_200.1).await;
    fits(browser, &format!("{name} at 200% zoom")).await;
    browser.resize(DESKTOP.0, DESKTOP.1).await;
    browser.screenshot(&format!("{name}-desktop")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sign_in_search_filter_page_open_a_record_and_sign_out() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let mut federation = WebFederation::start(60, Vec::new(), "").await;
    federation.user("nguyen.thi.lan", UserRole::Officer).await;
    let base = format!("https://127.0.0.1:{}", federation.gateway.http_addr.port());

    // Any page leads to sign-in first.
    browser
        .go(&format!("{base}/search?kind=experts&q=nguyen"))
        .await;
    browser.wait_for_path("/sign-in").await;
    assert_eq!(browser.text("h1").await, "Đăng nhập");
    // Keyboard: the first Tab reaches the skip link.
    browser.press("\u{E004}").await;
    let focused = browser
        .evaluate("return document.activeElement.className;")
        .await;
    assert_eq!(focused, "skip", "the first Tab should reach the skip link");
    shots(&browser, "01-sign-in").await;

    browser.type_into("#user", "nguyen.thi.lan").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form[action='/sign-in'] button").await;
    // Back to the page asked for, signed in.
    let path = browser.wait_for_path("/search").await;
    assert!(path.contains("q=nguyen"), "{path}");
    assert!(browser.text(".who").await.contains("nguyen.thi.lan"));

    // A search typed without diacritics finds names written with them.
    browser.type_into("#q", "nguyen").await;
    browser.click(".search-box button").await;
    browser.wait_for_path("/search?kind=experts&q=nguyen").await;
    let hits = browser.count("ol.hits > li").await;
    assert!(hits > 0, "no hits for nguyen");
    let first = browser.text("ol.hits > li h3").await;
    assert!(first.contains("Nguyễn"), "{first}");
    assert_eq!(browser.count("table.provinces .outcome-ok").await, 2);
    shots(&browser, "02-search").await;

    // Filter by province: the filters open, Nam Định is chosen, and every
    // hit is then Nam Định's; the URL holds the filter.
    browser.click("details.filters summary").await;
    browser.click("#node option[value='nam-dinh']").await;
    browser.click("details.filters p button").await;
    let path = browser.wait_for_path("/search?").await;
    for _ in 0..50 {
        if browser.url().await.contains("node=nam-dinh") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let url = browser.url().await;
    assert!(url.contains("node=nam-dinh"), "{url} ({path})");
    let source = browser.source().await;
    assert!(
        !source.contains("/records/hung-yen:"),
        "a Hưng Yên hit after filtering"
    );
    assert!(source.contains("/records/nam-dinh:"), "no Nam Định hits");

    // Page on with the gateway's token.
    let before: Vec<String> = hit_links(&source);
    browser.click("a[rel='next']").await;
    for _ in 0..50 {
        if browser.url().await.contains("page_token=") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let after = hit_links(&browser.source().await);
    assert!(!after.is_empty(), "the next page is empty");
    assert!(
        after.iter().all(|id| !before.contains(id)),
        "a hit repeated"
    );
    shots(&browser, "03-next-page").await;

    // Open a record.
    browser.click("ol.hits > li h3 a").await;
    browser.wait_for_path("/records/nam-dinh:").await;
    let source = browser.source().await;
    assert!(source.contains("<dl class=\"record\">"), "no record fields");
    assert!(source.contains("Sở KH&amp;CN nam-dinh"), "no provenance");
    shots(&browser, "04-record").await;

    // Stop Hưng Yên: the next search marks it down and still answers.
    drop(federation.hung_yen.take());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    browser
        .go(&format!("{base}/search?kind=experts&q=nguyen"))
        .await;
    browser.wait_for_path("/search").await;
    let source = browser.source().await;
    let row = source
        .split("data-node=\"hung-yen\"")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("a line for Hưng Yên");
    assert!(row.contains("outcome-down"), "{row}");
    assert!(
        source.contains("/records/nam-dinh:"),
        "Nam Định should still answer"
    );
    shots(&browser, "05-province-down").await;

    // Sign out: back to sign-in, and pages are closed again.
    browser.click("form[action='/sign-out'] button").await;
    browser.wait_for_path("/sign-in").await;
    browser.go(&format!("{base}/search?q=nguyen")).await;
    browser.wait_for_path("/sign-in").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_sees_statistics_the_proposal_check_and_the_federation() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let federation = WebFederation::start(60, Vec::new(), "").await;
    federation.user("quan-tri", UserRole::Admin).await;
    let base = format!("https://127.0.0.1:{}", federation.gateway.http_addr.port());
    browser.go(&format!("{base}/sign-in")).await;
    browser.type_into("#user", "quan-tri").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form[action='/sign-in'] button").await;
    browser.wait_for_path("/search").await;

    browser.go(&format!("{base}/statistics?kind=project")).await;
    assert!(browser.count("svg.chart").await >= 2, "no charts");
    assert!(browser.count("svg.chart rect.bar").await > 0, "no bars");
    shots(&browser, "06-statistics").await;
    browser.click("#view-table").await;
    browser.click("form.view-switch button").await;
    browser.wait_for_path("/statistics?").await;
    for _ in 0..50 {
        if browser.count("table tfoot").await > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(browser.count("table tfoot").await >= 2, "no tables");

    browser.go(&format!("{base}/proposal-check")).await;
    browser.type_into("#title", "nghiên cứu lúa").await;
    browser.click("form[action='/proposal-check'] button").await;
    browser.wait_for_path("/proposal-check?title=").await;
    shots(&browser, "07-proposal-check").await;

    browser.go(&format!("{base}/federation")).await;
    assert_eq!(browser.count("tbody tr[data-node]").await, 2);
    shots(&browser, "08-federation").await;
    browser.go(&format!("{base}/admin/users")).await;
    assert!(browser.source().await.contains("quan-tri"));
    shots(&browser, "09-users").await;
}

/// The record links of the hits on a results page.
fn hit_links(source: &str) -> Vec<String> {
    source
        .split("<h3><a href=\"/records/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_owned))
        .collect()
}
