//! The web pages as an attacker and a careful user would try them, over real
//! HTTPS to a real gateway in front of two real nodes: no session, an ended
//! session, forged and cross-site form posts, a viewer looking for personal
//! fields, a script in a record's name, the headers every answer carries,
//! password guessing, and a province whose node is down.

use lienthong_gateway::auth::UserRole;
use lienthong_proto::v1 as pb;
use lienthong_records::AnyRecord;
use lienthong_tests::federation_meta;
use lienthong_tests::web::{PASSWORD, WebFederation, hidden_value};

const SCRIPT_NAME: &str = "<script>alert('x')</script> Trần Văn Độc";
const EMAIL: &str = "tran.van.doc@example.vn";

/// An expert whose name carries a script, with personal fields and consent.
fn planted_expert() -> AnyRecord {
    AnyRecord::Expert(pb::Expert {
        meta: Some(federation_meta("hung-yen:expert:X0000001")),
        full_name: SCRIPT_NAME.into(),
        birth_year: 1971,
        organization_name: "Viện <b>Nghiên cứu</b>".into(),
        contact: Some(pb::ContactDetails {
            email: EMAIL.into(),
            phone: "0912345678".into(),
        }),
        contact_sharing_consent: true,
        field_codes: vec!["4010601".into()],
        ..Default::default()
    })
}

async fn federation() -> WebFederation {
    WebFederation::start(40, vec![planted_expert()], "").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_without_a_session_send_to_sign_in_and_show_nothing() {
    let federation = federation().await;
    let mut browser = federation.browser();
    for path in [
        "/search?kind=experts&q=tran+van+doc",
        "/records/hung-yen:expert:X0000001",
        "/statistics",
        "/statistics.csv",
        "/proposal-check?title=l%C3%BAa",
        "/federation",
        "/admin/users",
    ] {
        let answer = browser.get(path).await;
        assert_eq!(answer.status, 303, "{path}: {}", answer.body);
        assert!(
            answer.location().starts_with("/sign-in?next="),
            "{path}: {}",
            answer.location()
        );
        assert!(!answer.body.contains("Độc"), "{path}");
    }
    // A made-up session cookie is no session, and is cleared.
    browser
        .cookies
        .insert("__Host-lienthong-session".into(), "forged-secret".into());
    let answer = browser.get("/search?q=doc").await;
    assert_eq!(answer.status, 303);
    assert!(
        answer.location().contains("ended=1"),
        "{}",
        answer.location()
    );
    assert!(!browser.cookies.contains_key("__Host-lienthong-session"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_session_is_refused_on_its_next_request() {
    let federation = federation().await;
    let pool = federation.gateway.database().await;
    for (ending, column, value) in [
        ("expired", "expires_at", "2000-01-01T00:00:00Z"),
        ("idle", "last_seen_at", "2000-01-01T00:00:00Z"),
    ] {
        let mut browser = federation
            .signed_in(&format!("staff-{ending}"), UserRole::Officer)
            .await;
        let answer = browser.get("/search?q=nguyen").await;
        assert_eq!(answer.status, 200, "{ending}: {}", answer.body);
        let sql = format!("UPDATE gateway_sessions SET {column} = '{value}'");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .expect("age the session");
        let answer = browser.get("/search?q=nguyen").await;
        assert_eq!(answer.status, 303, "{ending}");
        assert!(answer.location().contains("ended=1"), "{ending}");
        // The row is gone, not just refused.
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM gateway_sessions")
            .fetch_one(&pool)
            .await
            .expect("count sessions");
        assert_eq!(left, 0, "{ending}");
    }
}

/// What a forged post is, the fields it sends, and its Origin header.
type Attempt<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<String>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_needs_the_form_token_and_the_same_origin() {
    let federation = federation().await;
    federation.user("nguyen.van.an", UserRole::Officer).await;
    let mut browser = federation.browser();
    let page = browser.get("/sign-in").await;
    let token = hidden_value(&page.body, "csrf").expect("token");
    let attempts: [Attempt; 4] = [
        (
            "no token",
            vec![("user", "nguyen.van.an"), ("password", PASSWORD)],
            Some(browser.origin()),
        ),
        (
            "wrong token",
            vec![
                ("csrf", "not-the-token-at-all-not-the-token"),
                ("user", "nguyen.van.an"),
                ("password", PASSWORD),
            ],
            Some(browser.origin()),
        ),
        (
            "another origin",
            vec![
                ("csrf", &token),
                ("user", "nguyen.van.an"),
                ("password", PASSWORD),
            ],
            Some("https://evil.example".into()),
        ),
        (
            "opaque origin",
            vec![
                ("csrf", &token),
                ("user", "nguyen.van.an"),
                ("password", PASSWORD),
            ],
            Some("null".into()),
        ),
    ];
    for (what, fields, origin) in attempts {
        let answer = browser
            .post_from("/sign-in", &fields, origin.as_deref())
            .await;
        assert_eq!(answer.status, 403, "{what}: {}", answer.body);
        assert!(
            !answer.header("set-cookie").contains("lienthong-session"),
            "{what}"
        );
    }
    // The same form with its token, from the page, signs in; `next` cannot
    // lead off the gateway.
    let answer = browser
        .post(
            "/sign-in",
            &[
                ("csrf", &token),
                ("user", "nguyen.van.an"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location(), "/search");
    let cookie = answer
        .header("set-cookie")
        .lines()
        .find(|line| line.starts_with("__Host-lienthong-session="))
        .expect("the session cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Domain="), "{cookie}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_need_the_session_csrf_token() {
    let federation = federation().await;
    let mut admin = federation.signed_in("quan-tri", UserRole::Admin).await;
    let token = admin.csrf_token().await;
    let create = |csrf: &'static str| {
        vec![
            ("csrf", csrf),
            ("action", "create"),
            ("name", "ke-gia-mao"),
            ("role", "admin"),
            ("password", "mật khẩu của kẻ giả mạo"),
        ]
    };
    for (what, fields, origin) in [
        ("no token", create("")[1..].to_vec(), Some(admin.origin())),
        (
            "wrong token",
            create("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            Some(admin.origin()),
        ),
    ] {
        let answer = admin
            .post_from("/admin/users", &fields, origin.as_deref())
            .await;
        assert_eq!(answer.status, 403, "{what}: {}", answer.body);
    }
    // The right token from another site.
    let mut fields = create("");
    fields[0].1 = &token;
    let answer = admin
        .post_from("/admin/users", &fields, Some("https://evil.example"))
        .await;
    assert_eq!(answer.status, 403, "cross-site: {}", answer.body);
    let users = admin.get("/admin/users").await;
    assert!(!users.body.contains("ke-gia-mao"), "a forged post acted");

    // Another session's token does not work either.
    let mut officer = federation.signed_in("can-bo", UserRole::Officer).await;
    let officer_token = officer.csrf_token().await;
    fields[0].1 = &officer_token;
    assert_eq!(admin.post("/admin/users", &fields).await.status, 403);

    // With its own token the change is made.
    fields[0].1 = &token;
    let answer = admin.post("/admin/users", &fields).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert!(admin.get("/admin/users").await.body.contains("ke-gia-mao"));

    // Sign-out is a change too: without the token the session lives on.
    let answer = officer.post("/sign-out", &[]).await;
    assert_eq!(answer.status, 403);
    assert_eq!(officer.get("/search").await.status, 200);
    let secret = officer.cookies["__Host-lienthong-session"].clone();
    let answer = officer.post("/sign-out", &[("csrf", &officer_token)]).await;
    assert_eq!(answer.status, 303);
    assert!(answer.location().starts_with("/sign-in"));
    // The real cookie, kept and replayed, is dead on the server.
    officer
        .cookies
        .insert("__Host-lienthong-session".into(), secret);
    assert_eq!(officer.get("/search").await.status, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_no_personal_fields_and_an_officer_does() {
    let federation = federation().await;
    let mut viewer = federation.signed_in("nguoi-xem", UserRole::Viewer).await;
    let mut officer = federation.signed_in("can-bo", UserRole::Officer).await;
    let page = "/records/hung-yen:expert:X0000001";
    let seen = officer.get(page).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(seen.body.contains(EMAIL), "the officer sees the email");
    assert!(
        seen.body.contains("1971"),
        "the officer sees the birth year"
    );
    let seen = viewer.get(page).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(!seen.body.contains(EMAIL), "a viewer saw the email");
    assert!(!seen.body.contains("0912345678"), "a viewer saw the phone");
    assert!(!seen.body.contains("1971"), "a viewer saw the birth year");
    assert!(seen.body.contains("Thông tin cá nhân"), "the page says why");
    // Nor through the search: a birth-year filter is refused, not answered.
    let searched = viewer
        .get("/search?kind=experts&q=doc&year_from=1970&year_to=1972")
        .await;
    assert_eq!(searched.status, 403, "{}", searched.body);
    assert!(!searched.body.contains("Độc"));
    // Administrator pages are closed to viewers and officers.
    for path in ["/federation", "/admin/users"] {
        assert_eq!(viewer.get(path).await.status, 403, "{path}");
        assert_eq!(officer.get(path).await.status, 403, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_in_a_name_comes_out_as_text() {
    let federation = federation().await;
    let mut officer = federation.signed_in("can-bo", UserRole::Officer).await;
    for path in [
        "/search?kind=experts&q=tran+van+doc",
        "/records/hung-yen:expert:X0000001",
    ] {
        let page = officer.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(
            page.body
                .contains("&lt;script&gt;alert('x')&lt;/script&gt; Trần Văn Độc"),
            "{path}: the name is not shown escaped"
        );
        assert!(
            !page.body.contains("<script"),
            "{path}: a script tag came out"
        );
        assert!(!page.body.contains("<b>"), "{path}: markup came out");
    }
    // A query that is itself markup is echoed escaped.
    let page = officer
        .get("/search?q=%22%3E%3Cscript%3Ex%3C%2Fscript%3E")
        .await;
    assert!(!page.body.contains("<script"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let federation = federation().await;
    let mut officer = federation.signed_in("can-bo", UserRole::Officer).await;
    let mut stranger = federation.browser();
    let stylesheet = officer
        .get("/search")
        .await
        .body
        .split("href=\"/assets/lienthong.")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|rest| format!("/assets/lienthong.{rest}"))
        .expect("the page links its stylesheet");
    let mut answers = vec![
        ("search", officer.get("/search?q=nguyen").await),
        (
            "record",
            officer.get("/records/hung-yen:expert:X0000001").await,
        ),
        ("stylesheet", officer.get(&stylesheet).await),
        ("api", officer.get("/api/v1/status").await),
    ];
    answers.push(("sign-in", stranger.get("/sign-in").await));
    for (what, answer) in &answers {
        let csp = answer.header("content-security-policy");
        assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
        assert!(
            !csp.contains("script-src"),
            "{what}: no script may run: {csp}"
        );
        assert!(
            answer
                .header("strict-transport-security")
                .starts_with("max-age="),
            "{what}"
        );
        assert_eq!(answer.header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(answer.header("x-frame-options"), "DENY", "{what}");
    }
    let (_, search) = &answers[0];
    assert_eq!(search.header("cache-control"), "no-store");
    assert!(!search.body.contains("<script"), "pages carry no script");
    assert!(!search.body.contains(" style="), "no inline style either");
    let (_, stylesheet) = &answers[2];
    assert_eq!(stylesheet.status, 200);
    assert!(stylesheet.header("cache-control").contains("immutable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_passwords_locks_the_account_and_tells_nothing() {
    let federation = federation().await;
    federation.user("nguyen.van.an", UserRole::Officer).await;
    let mut guesser = federation.browser();
    let unknown = guesser
        .sign_in("khong-ton-tai", "mật khẩu sai rồi đó")
        .await;
    let wrong = guesser
        .sign_in("nguyen.van.an", "mật khẩu sai rồi đó")
        .await;
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, 401);
    let message = |answer: &lienthong_tests::web::Answer| {
        answer
            .body
            .split("role=\"alert\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .map(str::to_owned)
    };
    // An unknown name and a wrong password read the same.
    assert!(
        message(&wrong).is_some_and(|text| !text.is_empty()),
        "{}",
        wrong.body
    );
    assert_eq!(message(&unknown), message(&wrong));
    for _ in 0..4 {
        assert_eq!(
            guesser
                .sign_in("nguyen.van.an", "mật khẩu sai rồi đó")
                .await
                .status,
            401
        );
    }
    // Five wrong in a row: now even the right password is refused, and the
    // page reads as for any wrong password.
    let locked = guesser.sign_in("nguyen.van.an", PASSWORD).await;
    assert_eq!(locked.status, 401, "{}", locked.body);
    assert_eq!(message(&locked), message(&wrong));
    // In another browser the account is still locked.
    let mut owner = federation.browser();
    assert_eq!(owner.sign_in("nguyen.van.an", PASSWORD).await.status, 401);
    // An administrator unlocks it.
    let mut admin = federation.signed_in("quan-tri", UserRole::Admin).await;
    let token = admin.csrf_token().await;
    let answer = admin
        .post(
            "/admin/users",
            &[
                ("csrf", &token),
                ("action", "enable"),
                ("name", "nguyen.van.an"),
            ],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(owner.sign_in("nguyen.van.an", PASSWORD).await.status, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_province_whose_node_is_down_is_marked_and_the_rest_answer() {
    let mut federation = federation().await;
    let mut officer = federation.signed_in("can-bo", UserRole::Officer).await;
    let page = officer.get("/search?kind=experts&q=nguyen").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("class=\"outcome-ok\"").count(), 2);
    drop(federation.nam_dinh.take());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let page = officer.get("/search?kind=experts&q=tran+van+doc").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let row = page
        .body
        .split("data-node=\"nam-dinh\"")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("a line for Nam Định");
    assert!(row.contains("outcome-down"), "{row}");
    let row = page
        .body
        .split("data-node=\"hung-yen\"")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("a line for Hưng Yên");
    assert!(row.contains("outcome-ok"), "{row}");
    assert!(
        page.body.contains("hung-yen:expert:X0000001"),
        "Hưng Yên's hits still show"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_url_holds_the_search_and_pages_follow_the_tokens() {
    let federation = federation().await;
    let mut officer = federation.signed_in("can-bo", UserRole::Officer).await;
    let first = officer
        .get("/search?kind=experts&q=&field=&node=hung-yen&page_size=5")
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(!first.body.contains("nam-dinh:expert:"));
    let next = first
        .body
        .split("rel=\"next\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page")
        .replace("&amp;", "&");
    assert!(
        next.contains("node=hung-yen") && next.contains("page_token="),
        "{next}"
    );
    let second = officer.get(&next).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let ids = |body: &str| -> Vec<String> {
        body.split("href=\"/records/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next().map(str::to_owned))
            .collect()
    };
    let (first_ids, second_ids) = (ids(&first.body), ids(&second.body));
    assert_eq!(first_ids.len(), 5);
    assert!(!second_ids.is_empty());
    assert!(
        second_ids.iter().all(|id| !first_ids.contains(id)),
        "a page repeated a hit"
    );
    // Another user cannot use this user's page token.
    let mut viewer = federation.signed_in("nguoi-xem", UserRole::Viewer).await;
    assert_eq!(viewer.get(&next).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_a_user_ends_their_open_sessions() {
    let federation = federation().await;
    let mut admin = federation.signed_in("quan-tri", UserRole::Admin).await;
    let token = admin.csrf_token().await;
    for (action, extra) in [
        ("set_role", ("role", "viewer")),
        ("set_password", ("password", "một mật khẩu mới rất dài")),
        ("disable", ("", "")),
    ] {
        let name = format!("staff-{action}");
        let mut staff = federation.signed_in(&name, UserRole::Officer).await;
        assert_eq!(staff.get("/search?q=nguyen").await.status, 200);
        let mut fields = vec![
            ("csrf", token.as_str()),
            ("action", action),
            ("name", &name),
        ];
        if !extra.0.is_empty() {
            fields.push(extra);
        }
        let answer = admin.post("/admin/users", &fields).await;
        assert_eq!(answer.status, 303, "{action}: {}", answer.body);
        let answer = staff.get("/search?q=nguyen").await;
        assert_eq!(
            answer.status, 303,
            "{action}: the session outlived the change"
        );
        assert!(answer.location().contains("ended=1"), "{action}");
    }
    // The disabled user cannot sign in again; the others can.
    let mut again = federation.browser();
    assert_eq!(again.sign_in("staff-disable", PASSWORD).await.status, 401);
    assert_eq!(again.sign_in("staff-set_role", PASSWORD).await.status, 303);
    // An administrator cannot demote or disable themselves.
    for (action, extra) in [("set_role", ("role", "officer")), ("disable", ("", ""))] {
        let mut fields = vec![
            ("csrf", token.as_str()),
            ("action", action),
            ("name", "quan-tri"),
        ];
        if !extra.0.is_empty() {
            fields.push(extra);
        }
        let answer = admin.post("/admin/users", &fields).await;
        assert_eq!(answer.status, 400, "{action}: {}", answer.body);
    }
    assert_eq!(admin.get("/admin/users").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_stay_on_the_gateway() {
    let federation = federation().await;
    let mut browser = federation.browser();
    for next in [
        "%2F%2Fevil.example%2F",
        "%2F%09%2Fevil.example%2F",
        "%2F%5Cevil.example",
        "https%3A%2F%2Fevil.example%2F",
        "%2Fsearch%0D%0ASet-Cookie%3A%20a%3Db",
    ] {
        let answer = browser.get(&format!("/language?to=en&next={next}")).await;
        assert_eq!(answer.status, 303, "{next}");
        assert_eq!(answer.location(), "/search", "{next}");
    }
    let answer = browser
        .get("/language?to=en&next=%2Fstatistics%3Fkind%3Dexpert")
        .await;
    assert_eq!(answer.location(), "/statistics?kind=expert");
    // The language sticks: the sign-in page is now in English.
    assert!(
        browser
            .get("/sign-in")
            .await
            .body
            .contains("<html lang=\"en\">")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_show_birth_years_only_to_officers() {
    let federation = federation().await;
    let mut viewer = federation.signed_in("nguoi-xem", UserRole::Viewer).await;
    let mut officer = federation.signed_in("can-bo", UserRole::Officer).await;
    let rows = |csv: &str| -> usize {
        csv.lines()
            .filter(|line| line.contains(",expert,year,"))
            .count()
    };
    let seen = officer.get("/statistics.csv").await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(seen.header("content-type").starts_with("text/csv"));
    assert!(rows(&seen.body) > 0, "officers see experts by birth year");
    let seen = viewer.get("/statistics.csv").await;
    assert_eq!(seen.status, 200);
    assert_eq!(rows(&seen.body), 0, "a viewer got birth years");
    assert!(seen.body.contains(",project,status,"), "the rest is there");
    let page = viewer.get("/statistics?kind=expert").await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("id=\"chart-year\""),
        "a viewer got the birth-year chart"
    );
    for path in [
        "/statistics",
        "/records/hung-yen:expert:X0000001",
        "/admin/users",
    ] {
        let answer = officer.get(path).await;
        if path == "/admin/users" {
            assert_eq!(answer.status, 403);
        }
        assert_eq!(answer.header("cache-control"), "no-store", "{path}");
    }
}

/// The user and session tables keep their rules on SQLite and PostgreSQL
/// alike: the last administrator, the lockout, and sessions that end with a
/// change to their user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_sessions_keep_their_rules_on_every_backend() {
    use lienthong_gateway::auth::{
        EndUser, Lockout, PasswordCheck, SessionLifetime, SessionSource, SessionStore, UserStore,
    };
    for database in lienthong_tests::TestDatabase::each_backend().await {
        let backend = database.backend;
        let (pool, _) = lienthong_store::connect(&database.url, 2)
            .await
            .expect("open the database");
        let users = UserStore::open(pool.clone()).await.expect("user table");
        let lifetime = SessionLifetime {
            idle: time::Duration::minutes(30),
            absolute: time::Duration::hours(12),
        };
        let sessions = SessionStore::open(pool.clone(), lifetime)
            .await
            .expect("session table");
        users
            .create("quan-tri", UserRole::Admin, PASSWORD)
            .await
            .expect("admin");
        users
            .create("can-bo", UserRole::Officer, PASSWORD)
            .await
            .expect("officer");
        assert!(
            users
                .create("can-bo", UserRole::Viewer, PASSWORD)
                .await
                .is_err()
        );
        assert!(
            users
                .create("ngan", UserRole::Viewer, "short")
                .await
                .is_err()
        );

        // The only administrator stays one.
        assert!(
            users.set_role("quan-tri", UserRole::Officer).await.is_err(),
            "{backend:?}"
        );
        assert!(
            users.set_disabled("quan-tri", true).await.is_err(),
            "{backend:?}"
        );
        users
            .set_role("can-bo", UserRole::Admin)
            .await
            .expect("a second admin");
        users
            .set_role("quan-tri", UserRole::Officer)
            .await
            .expect("now the first may step down");
        users
            .set_role("can-bo", UserRole::Officer)
            .await
            .expect_err("but not both");
        users
            .set_role("quan-tri", UserRole::Admin)
            .await
            .expect("back");
        users
            .set_role("can-bo", UserRole::Officer)
            .await
            .expect("back");

        // Five wrong passwords lock the account; then the right one is
        // refused too.
        let lockout = Lockout {
            after_failures: 5,
            minutes: 15,
        };
        let mut last = PasswordCheck::Wrong;
        for _ in 0..5 {
            last = users
                .check_password("can-bo", "không đúng mật khẩu", lockout, ())
                .await
                .expect("check");
        }
        assert!(
            matches!(last, PasswordCheck::Locked(_)),
            "{backend:?}: {last:?}"
        );
        let right = users
            .check_password("can-bo", PASSWORD, lockout, ())
            .await
            .expect("check");
        assert!(matches!(right, PasswordCheck::Locked(_)), "{backend:?}");
        assert_eq!(
            users
                .check_password("khong-co", PASSWORD, lockout, ())
                .await
                .expect("check"),
            PasswordCheck::Wrong
        );
        users.set_disabled("can-bo", false).await.expect("unlock");
        let PasswordCheck::Accepted(info) = users
            .check_password("can-bo", PASSWORD, lockout, ())
            .await
            .expect("check")
        else {
            panic!("{backend:?}: the right password after unlocking");
        };

        // A session lives until its user changes.
        let user = EndUser {
            name: info.name.clone(),
            role: info.role,
        };
        let (secret, _) = sessions
            .create(&user, SessionSource::Password, info.session_epoch)
            .await
            .expect("session");
        assert!(sessions.find(&secret).await.expect("find").is_some());
        users
            .set_password("can-bo", "một mật khẩu mới khác hẳn")
            .await
            .expect("new password");
        assert!(
            sessions.find(&secret).await.expect("find").is_none(),
            "{backend:?}: the session outlived a password change"
        );
        // A session opened with an epoch read before a change is dead at once.
        let (stale, _) = sessions
            .create(&user, SessionSource::Password, info.session_epoch)
            .await
            .expect("session");
        assert!(
            sessions.find(&stale).await.expect("find").is_none(),
            "{backend:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_see_how_far_each_mirror_is_behind() {
    let federation = WebFederation::start_following(30).await;
    let follower = &federation.hung_yen.as_ref().expect("Hưng Yên").store;
    let caught_up = lienthong_tests::wait_for(std::time::Duration::from_secs(20), || async {
        follower.peer_syncs().await.is_ok_and(|syncs| {
            syncs
                .iter()
                .any(|sync| sync.peer == "nam-dinh" && !sync.caught_up_at.is_empty())
        })
    })
    .await;
    assert!(caught_up, "Hưng Yên never caught up with Nam Định");
    let mirrored = follower.peer_syncs().await.expect("syncs")[0].mirrored;
    assert!(mirrored > 0);

    let mut admin = federation.signed_in("quan-tri", UserRole::Admin).await;
    let page = admin.get("/federation").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let row = page
        .body
        .split("data-follower=\"hung-yen\" data-peer=\"nam-dinh\"")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("a sync line for Hưng Yên following Nam Định");
    let shown =
        lienthong_gateway::web::i18n::number(lienthong_gateway::web::i18n::Lang::Vi, mirrored);
    assert!(row.contains(&format!(">{shown}<")), "{row}");
    assert!(row.contains("outcome-ok"), "{row}");

    // Only gateways are told: another caller's Info carries no mirrors.
    let (prober, _) = federation.pki.issue("system:prober");
    let url = federation.hung_yen.as_ref().expect("Hưng Yên").url();
    let info = lienthong_tests::secure::node_client(&url, &prober)
        .await
        .info(lienthong_proto::v1::InfoRequest {})
        .await
        .expect("info")
        .into_inner();
    assert!(info.mirrors.is_empty(), "{:?}", info.mirrors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_session_lives_only_with_its_certificate() {
    let federation = WebFederation::start(
        20,
        Vec::new(),
        "[auth.certificate_roles]\n\"staff:nguyen-van-an\" = \"officer\"\n",
    )
    .await;
    let (listed, _) = federation.pki.issue("staff:nguyen-van-an");
    let (unlisted, _) = federation.pki.issue("staff:tran-thi-binh");
    let address = federation.gateway.http_addr;
    let mut holder = lienthong_tests::web::WebClient::new(address, &federation.ca(), Some(&listed));
    let page = holder.get("/sign-in").await;
    let token = hidden_value(&page.body, "csrf").expect("token");
    let answer = holder
        .post(
            "/sign-in/certificate",
            &[("csrf", &token), ("next", "/search")],
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let page = holder.get("/search?q=nguyen").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("staff:nguyen-van-an"));

    // The same cookie on a connection without the certificate is no session.
    let mut thief = federation.browser();
    thief.cookies = holder.cookies.clone();
    assert_eq!(thief.get("/search?q=nguyen").await.status, 303);
    // Nor with another certificate.
    let mut other =
        lienthong_tests::web::WebClient::new(address, &federation.ca(), Some(&unlisted));
    other.cookies = holder.cookies.clone();
    assert_eq!(other.get("/search?q=nguyen").await.status, 303);
    // A certificate the configuration does not list cannot sign in.
    let mut stranger =
        lienthong_tests::web::WebClient::new(address, &federation.ca(), Some(&unlisted));
    let page = stranger.get("/sign-in").await;
    let token = hidden_value(&page.body, "csrf").expect("token");
    let answer = stranger
        .post(
            "/sign-in/certificate",
            &[("csrf", &token), ("next", "/search")],
        )
        .await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    // No certificate at all: refused the same way.
    let mut bare = federation.browser();
    let page = bare.get("/sign-in").await;
    let token = hidden_value(&page.body, "csrf").expect("token");
    let answer = bare
        .post(
            "/sign-in/certificate",
            &[("csrf", &token), ("next", "/search")],
        )
        .await;
    assert_eq!(answer.status, 401, "{}", answer.body);
}
