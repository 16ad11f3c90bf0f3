//! The OAI-PMH endpoint of a real node, over real HTTPS: every verb in
//! every format valid against the vendored schemas, the protocol's error
//! codes, who sees what (anonymous harvesters public records only; a
//! certificate or a token what its grant allows), complete harvests while
//! records are written between pages, and one audit entry per request.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;

use lienthong_proto::v1 as pb;
use lienthong_records::AnyRecord;
use lienthong_tests::oai::{self, Credentials, OaiResponse, attribute_of, texts_of};
use lienthong_tests::secure::audit_entries;
use lienthong_tests::secure::{SecureNode, TestPki};
use lienthong_tests::{TestDatabase, sample_records};

const NODE: &str = "hung-yen";
const REPOSITORY: &str = "hung-yen.lienthong.vn";
const TOKEN: &str = "vista-harvest-token-9f2c1e";

const POLICY: &str = r#"
[[grant]]
peers = ["public"]
rpcs = ["harvest"]
kinds = ["expert", "project", "publication", "organization"]

[[grant]]
peers = ["system:vista"]
rpcs = ["harvest"]
kinds = ["expert", "project", "publication", "organization"]
personal_fields = ["email"]
"#;

fn oai_section(page_size: u32) -> String {
    let hash: String = ring::digest::digest(&ring::digest::SHA256, TOKEN.as_bytes())
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!(
        "[oai]\nlisten = \"127.0.0.1:0\"\nadmin_email = \"cntt@skhcn.hungyen.gov.vn\"\n\
         page_size = {page_size}\n\
         [[oai.harvester]]\nidentity = \"system:vista\"\ntoken_sha256 = \"{hash}\"\n"
    )
}

struct Harvested {
    _pki: TestPki,
    _database: TestDatabase,
    node: SecureNode,
    ca: PathBuf,
    oai: SocketAddr,
    records: Vec<AnyRecord>,
}

async fn node_with_samples(policy: &str, page_size: u32) -> Harvested {
    node_with_samples_on(TestDatabase::sqlite(), policy, page_size).await
}

async fn node_with_samples_on(database: TestDatabase, policy: &str, page_size: u32) -> Harvested {
    let pki = TestPki::new();
    let node =
        SecureNode::start_with(&pki, NODE, &database.url, policy, &oai_section(page_size)).await;
    let records = sample_records(NODE, 120);
    lienthong_tests::load(&node.store, records.clone()).await;
    let ca = node.tls.ca_bundle.clone();
    let oai = node.oai_addr.expect("the node serves OAI-PMH");
    Harvested {
        _pki: pki,
        _database: database,
        node,
        ca,
        oai,
        records,
    }
}

fn visibility_of(record: &AnyRecord) -> (i32, i32) {
    record
        .meta()
        .map_or((0, 0), |meta| (meta.visibility, meta.classification))
}

fn is_public(record: &AnyRecord) -> bool {
    visibility_of(record)
        == (
            pb::Visibility::Public as i32,
            pb::Classification::Normal as i32,
        )
}

fn oai_id(id: &str) -> String {
    format!("oai:{REPOSITORY}:{id}")
}

/// Checks the answer is an OAI-PMH document valid against the schemas.
fn assert_valid(response: &OaiResponse, what: &str) {
    assert_eq!(response.status, 200, "{what}: {}", response.body);
    assert_eq!(
        response.header("content-type").as_deref(),
        Some("text/xml; charset=utf-8"),
        "{what}"
    );
    if oai::xmllint_available()
        && let Err(complaints) = oai::validate(&response.body)
    {
        panic!(
            "{what} is not schema-valid:\n{complaints}\n{}",
            response.body
        );
    }
}

/// Every header of a whole list, page by page: (identifier, deleted).
async fn harvest_all(
    at: &Harvested,
    credentials: Credentials<'_>,
    query: &str,
) -> Vec<(String, bool)> {
    let mut headers = Vec::new();
    let mut next = query.to_owned();
    loop {
        let page = oai::request(at.oai, &at.ca, credentials, &next, None).await;
        assert_valid(&page, &next);
        if texts_of(&page.body, "error").len() == 1 && headers.is_empty() {
            return headers;
        }
        headers.extend(headers_of(&page.body));
        let token = texts_of(&page.body, "resumptionToken");
        match token.first() {
            Some(token) if !token.is_empty() => {
                next = format!("verb=ListIdentifiers&resumptionToken={token}");
                if query.contains("ListRecords") {
                    next = next.replace("ListIdentifiers", "ListRecords");
                }
            }
            _ => return headers,
        }
    }
}

fn headers_of(body: &str) -> Vec<(String, bool)> {
    body.split("<header")
        .skip(1)
        .map(|header| {
            let deleted = header.starts_with(" status=\"deleted\"");
            let identifier = texts_of(header, "identifier")
                .into_iter()
                .next()
                .expect("identifier");
            (identifier, deleted)
        })
        .collect()
}

#[tokio::test]
async fn every_verb_answers_schema_valid_xml_in_every_format() {
    let at = node_with_samples(POLICY, 20).await;
    let public: Vec<&AnyRecord> = at.records.iter().filter(|r| is_public(r)).collect();
    let mut queries = vec![
        "verb=Identify".to_owned(),
        "verb=ListMetadataFormats".to_owned(),
        "verb=ListSets".to_owned(),
    ];
    for kind in lienthong_records::RecordKind::ALL {
        let record = public
            .iter()
            .find(|record| record.kind() == kind)
            .expect("a public record of every kind");
        for prefix in ["oai_dc", "oai_cerif_openaire"] {
            queries.push(format!(
                "verb=GetRecord&metadataPrefix={prefix}&identifier={}",
                oai_id(record.id())
            ));
        }
        queries.push(format!(
            "verb=ListMetadataFormats&identifier={}",
            oai_id(record.id())
        ));
    }
    for set in [
        "openaire_cris_persons",
        "openaire_cris_projects",
        "openaire_cris_publications",
        "openaire_cris_orgunits",
    ] {
        queries.push(format!(
            "verb=ListRecords&metadataPrefix=oai_cerif_openaire&set={set}"
        ));
    }
    queries.push("verb=ListRecords&metadataPrefix=oai_dc".into());
    queries.push("verb=ListIdentifiers&metadataPrefix=oai_cerif_openaire".into());
    for query in &queries {
        let response = oai::get(at.oai, &at.ca, query).await;
        assert_valid(&response, query);
        assert_eq!(
            oai::schematron_violations(&response.body),
            Vec::<String>::new(),
            "{query}"
        );
        assert!(
            texts_of(&response.body, "error").is_empty(),
            "{query}: {}",
            response.body
        );
    }

    let identify = oai::get(at.oai, &at.ca, "verb=Identify").await.body;
    assert_eq!(texts_of(&identify, "repositoryIdentifier"), [REPOSITORY]);
    assert_eq!(texts_of(&identify, "Acronym"), [REPOSITORY]);
    assert_eq!(texts_of(&identify, "deletedRecord"), ["persistent"]);
    assert_eq!(texts_of(&identify, "granularity"), ["YYYY-MM-DDThh:mm:ssZ"]);

    let sets = oai::get(at.oai, &at.ca, "verb=ListSets").await.body;
    let specs = texts_of(&sets, "setSpec");
    for (spec, name) in lienthong_oai::sets::OPENAIRE_SETS {
        assert!(specs.iter().any(|s| s == spec), "{spec}");
        assert!(
            sets.contains(&format!("<setName>{name}</setName>")),
            "{name}"
        );
    }
    assert!(specs.iter().any(|s| s == "field_4"));

    // A resumed page and the last page of a list are valid too.
    let first = oai::get(at.oai, &at.ca, "verb=ListRecords&metadataPrefix=oai_dc").await;
    let token = texts_of(&first.body, "resumptionToken")[0].clone();
    assert!(!token.is_empty(), "more than one page of public records");
    assert_eq!(
        attribute_of(&first.body, "resumptionToken", "cursor").as_deref(),
        Some("0")
    );
    let size: usize = attribute_of(&first.body, "resumptionToken", "completeListSize")
        .expect("completeListSize")
        .parse()
        .expect("a number");
    assert!(attribute_of(&first.body, "resumptionToken", "expirationDate").is_some());
    let second = oai::get(
        at.oai,
        &at.ca,
        &format!("verb=ListRecords&resumptionToken={token}"),
    )
    .await;
    assert_valid(&second, "a resumed page");
    assert_eq!(
        attribute_of(&second.body, "resumptionToken", "cursor").as_deref(),
        Some("20")
    );
    let all = harvest_all(
        &at,
        Credentials::None,
        "verb=ListIdentifiers&metadataPrefix=oai_dc",
    )
    .await;
    assert_eq!(all.len(), size, "completeListSize counts the list");
}

#[tokio::test]
async fn anonymous_harvesters_see_public_records_and_credentials_see_their_grant() {
    for database in TestDatabase::each_backend().await {
        see_what_the_grant_allows(node_with_samples_on(database, POLICY, 25).await).await;
    }
}

async fn see_what_the_grant_allows(at: Harvested) {
    let expected = |keep: fn(&AnyRecord) -> bool| -> BTreeSet<String> {
        at.records
            .iter()
            .filter(|record| keep(record))
            .map(|record| oai_id(record.id()))
            .collect()
    };
    let public = expected(is_public);
    let shareable = expected(lienthong_tests::is_shareable);
    assert!(
        public.len() < shareable.len(),
        "the samples hold federation records"
    );

    for (credentials, wanted, who) in [
        (Credentials::None, &public, "anonymous"),
        (Credentials::Bearer(TOKEN), &shareable, "token"),
    ] {
        let harvested = harvest_all(
            &at,
            credentials,
            "verb=ListIdentifiers&metadataPrefix=oai_dc",
        )
        .await;
        let ids: Vec<&String> = harvested.iter().map(|(id, _)| id).collect();
        let distinct: BTreeSet<String> = ids.iter().map(|id| (*id).clone()).collect();
        assert_eq!(distinct.len(), ids.len(), "{who}: no record twice");
        assert_eq!(&distinct, wanted, "{who}");
    }
    let (vista, _) = at._pki.issue("system:vista");
    let by_certificate = harvest_all(
        &at,
        Credentials::Certificate(&vista),
        "verb=ListIdentifiers&metadataPrefix=oai_cerif_openaire",
    )
    .await;
    let by_certificate: BTreeSet<String> = by_certificate.into_iter().map(|(id, _)| id).collect();
    assert_eq!(by_certificate, shareable, "certificate");

    // A record the harvester may not see does not exist for it, whether
    // hidden or never there: the same error, the same words.
    let federation_only = shareable.difference(&public).next().expect("one").clone();
    let hidden = oai::get(
        at.oai,
        &at.ca,
        &format!("verb=GetRecord&metadataPrefix=oai_dc&identifier={federation_only}"),
    )
    .await;
    let absent = oai::get(
        at.oai,
        &at.ca,
        &format!(
            "verb=GetRecord&metadataPrefix=oai_dc&identifier={}",
            oai_id("hung-yen:expert:NOPE")
        ),
    )
    .await;
    assert_eq!(
        attribute_of(&hidden.body, "error", "code").as_deref(),
        Some("idDoesNotExist")
    );
    assert_eq!(
        attribute_of(&absent.body, "error", "code").as_deref(),
        Some("idDoesNotExist")
    );
    let through_token = oai::request(
        at.oai,
        &at.ca,
        Credentials::Bearer(TOKEN),
        &format!("verb=GetRecord&metadataPrefix=oai_cerif_openaire&identifier={federation_only}"),
        None,
    )
    .await;
    assert_valid(&through_token, "GetRecord with a token");
    assert!(texts_of(&through_token.body, "error").is_empty());

    // Personal data: no e-mail ever reaches an anonymous harvester.
    let everything = oai::get(
        at.oai,
        &at.ca,
        "verb=ListRecords&metadataPrefix=oai_cerif_openaire&set=openaire_cris_persons",
    )
    .await;
    assert!(!everything.body.contains("mailto:"), "{}", everything.body);
    // A token from one harvester is not another's.
    let token = texts_of(&everything.body, "resumptionToken")
        .into_iter()
        .next()
        .unwrap_or_default();
    if !token.is_empty() {
        let stolen = oai::request(
            at.oai,
            &at.ca,
            Credentials::Bearer(TOKEN),
            &format!("verb=ListRecords&resumptionToken={token}"),
            None,
        )
        .await;
        assert_eq!(
            attribute_of(&stolen.body, "error", "code").as_deref(),
            Some("badResumptionToken")
        );
    }
}

#[tokio::test]
async fn a_harvest_while_records_change_delivers_each_unchanged_record_exactly_once() {
    for database in TestDatabase::each_backend().await {
        harvest_while_records_change(node_with_samples_on(database, POLICY, 10).await).await;
    }
}

async fn harvest_while_records_change(at: Harvested) {
    let public: Vec<AnyRecord> = at
        .records
        .iter()
        .filter(|r| is_public(r))
        .cloned()
        .collect();
    let first = oai::get(at.oai, &at.ca, "verb=ListIdentifiers&metadataPrefix=oai_dc").await;
    assert_valid(&first, "first page");
    let started = texts_of(&first.body, "responseDate")[0].clone();
    let mut seen: Vec<(String, bool)> = headers_of(&first.body);
    let delivered_first: BTreeSet<String> = seen.iter().map(|(id, _)| id.clone()).collect();

    // Between pages: one record not yet delivered is edited, one deleted,
    // one made internal, and a new public one written.
    let pending: Vec<&AnyRecord> = public
        .iter()
        .filter(|record| !delivered_first.contains(&oai_id(record.id())))
        .collect();
    assert!(pending.len() >= 3, "enough records after the first page");
    let mut edited = pending[0].clone();
    if let AnyRecord::Expert(expert) = &mut edited {
        expert.position = "Phó Giám đốc".into();
    } else if let AnyRecord::Project(project) = &mut edited {
        project.summary.push_str(" (đã cập nhật)");
    } else if let AnyRecord::Publication(publication) = &mut edited {
        publication.volume = "99".into();
    } else if let AnyRecord::Organization(organization) = &mut edited {
        organization.abbreviation = "ĐỔI".into();
    }
    let deleted = pending[1].id().to_owned();
    let mut withdrawn = pending[2].clone();
    withdrawn.meta_mut().visibility = pb::Visibility::Internal as i32;
    let mut added = lienthong_tests::bulk_task(NODE, 900_001);
    added.meta_mut().visibility = pb::Visibility::Public as i32;
    let changed: BTreeSet<String> = [edited.id(), deleted.as_str(), withdrawn.id(), added.id()]
        .into_iter()
        .map(oai_id)
        .collect();
    at.node
        .store
        .upsert(vec![edited.clone(), withdrawn.clone(), added.clone()])
        .await
        .expect("write between pages");
    at.node
        .store
        .delete(&deleted)
        .await
        .expect("delete between pages");

    let mut token = texts_of(&first.body, "resumptionToken")[0].clone();
    while !token.is_empty() {
        let page = oai::get(
            at.oai,
            &at.ca,
            &format!("verb=ListIdentifiers&resumptionToken={token}"),
        )
        .await;
        assert_valid(&page, "a later page");
        seen.extend(headers_of(&page.body));
        token = texts_of(&page.body, "resumptionToken")
            .into_iter()
            .next()
            .unwrap_or_default();
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (id, _) in &seen {
        *counts.entry(id.clone()).or_default() += 1;
    }
    for record in &public {
        let id = oai_id(record.id());
        if !changed.contains(&id) {
            assert_eq!(counts.get(&id), Some(&1), "{id} unchanged: exactly once");
        }
    }
    assert!(counts.values().all(|count| *count == 1), "nothing twice");

    // What changed after the harvest started comes with the next
    // incremental harvest: the edit and the new record live, the deletion
    // and the withdrawal as deletions.
    let incremental = harvest_all(
        &at,
        Credentials::None,
        &format!("verb=ListIdentifiers&metadataPrefix=oai_dc&from={started}"),
    )
    .await;
    let incremental: BTreeMap<String, bool> = incremental.into_iter().collect();
    assert_eq!(incremental.get(&oai_id(edited.id())), Some(&false));
    assert_eq!(incremental.get(&oai_id(added.id())), Some(&false));
    assert_eq!(incremental.get(&oai_id(&deleted)), Some(&true));
    assert_eq!(incremental.get(&oai_id(withdrawn.id())), Some(&true));
    // A record never public is not even a deletion to an anonymous harvester.
    let federation_only = at
        .records
        .iter()
        .find(|record| lienthong_tests::is_shareable(record) && !is_public(record))
        .expect("a federation record");
    at.node
        .store
        .delete(federation_only.id())
        .await
        .expect("delete");
    let later = harvest_all(
        &at,
        Credentials::None,
        &format!("verb=ListIdentifiers&metadataPrefix=oai_dc&from={started}"),
    )
    .await;
    assert!(
        !later
            .iter()
            .any(|(id, _)| *id == oai_id(federation_only.id()))
    );
}

#[tokio::test]
async fn protocol_errors_answer_http_200_with_the_specs_codes() {
    let at = node_with_samples(POLICY, 10).await;
    let cases: &[(&str, &str)] = &[
        ("", "badVerb"),
        ("verb=Harvest", "badVerb"),
        ("verb=Identify&verb=Identify", "badVerb"),
        ("verb=Identify&extra=1", "badArgument"),
        ("verb=GetRecord&identifier=x", "badArgument"),
        ("verb=ListRecords", "badArgument"),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc",
            "badArgument",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2026-13-01",
            "badArgument",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-01&until=2026-01-01T00:00:00Z",
            "badArgument",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&set=no_such_set",
            "badArgument",
        ),
        (
            "verb=ListRecords&resumptionToken=abc&metadataPrefix=oai_dc",
            "badArgument",
        ),
        ("verb=ListRecords&resumptionToken=abc", "badResumptionToken"),
        (
            "verb=ListIdentifiers&resumptionToken=oai1.AAAA",
            "badResumptionToken",
        ),
        ("verb=ListSets&resumptionToken=x", "badResumptionToken"),
        (
            "verb=ListRecords&metadataPrefix=marc21",
            "cannotDisseminateFormat",
        ),
        (
            "verb=GetRecord&metadataPrefix=marc21&identifier=oai:x:y",
            "cannotDisseminateFormat",
        ),
        (
            "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:other.repo:hung-yen:expert:E1",
            "idDoesNotExist",
        ),
        (
            "verb=ListMetadataFormats&identifier=oai:hung-yen.lienthong.vn:nope",
            "idDoesNotExist",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&set=openaire_cris_events",
            "noRecordsMatch",
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2999-01-01",
            "noRecordsMatch",
        ),
        (
            "verb=ListIdentifiers&metadataPrefix=oai_dc&until=2000-01-01",
            "noRecordsMatch",
        ),
    ];
    for (query, code) in cases {
        let response = oai::get(at.oai, &at.ca, query).await;
        assert_valid(&response, query);
        assert_eq!(
            attribute_of(&response.body, "error", "code").as_deref(),
            Some(*code),
            "{query}: {}",
            response.body
        );
        let echoes = attribute_of(&response.body, "request", "verb").is_some();
        let refused = *code == "badVerb" || *code == "badArgument";
        assert_eq!(
            echoes, !refused,
            "{query}: the request is echoed unless refused"
        );
    }
    // A token altered by one character is not ours.
    let first = oai::get(at.oai, &at.ca, "verb=ListIdentifiers&metadataPrefix=oai_dc").await;
    let token = texts_of(&first.body, "resumptionToken")[0].clone();
    let mut altered = token.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).expect("ascii");
    let response = oai::get(
        at.oai,
        &at.ca,
        &format!("verb=ListIdentifiers&resumptionToken={altered}"),
    )
    .await;
    assert_eq!(
        attribute_of(&response.body, "error", "code").as_deref(),
        Some("badResumptionToken")
    );
    // ListRecords does not take ListIdentifiers' tokens.
    let response = oai::get(
        at.oai,
        &at.ca,
        &format!("verb=ListRecords&resumptionToken={token}"),
    )
    .await;
    assert_eq!(
        attribute_of(&response.body, "error", "code").as_deref(),
        Some("badResumptionToken")
    );
    // POST answers as GET does.
    let posted = oai::request(
        at.oai,
        &at.ca,
        Credentials::None,
        "",
        Some("verb=ListIdentifiers&metadataPrefix=oai_dc"),
    )
    .await;
    assert_valid(&posted, "POST");
    assert_eq!(headers_of(&posted.body), headers_of(&first.body));
}

#[tokio::test]
async fn bad_credentials_are_refused_no_grant_refuses_everyone_and_every_request_is_audited() {
    let at = node_with_samples(POLICY, 10).await;
    let before = audit_entries(at.node.store.pool()).await.len();
    let wrong = oai::request(
        at.oai,
        &at.ca,
        Credentials::Bearer("not-the-token"),
        "verb=Identify",
        None,
    )
    .await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(
        !wrong.body.contains("system:vista"),
        "the refusal names nobody"
    );
    for query in ["verb=Identify", "verb=ListSets", "verb=Nope"] {
        let response = oai::get(at.oai, &at.ca, query).await;
        assert_eq!(response.status, 200);
    }
    let page = oai::get(at.oai, &at.ca, "verb=ListRecords&metadataPrefix=oai_dc").await;
    let entries = audit_entries(at.node.store.pool()).await;
    let harvests: Vec<_> = entries[before..]
        .iter()
        .filter(|entry| entry.action == "Harvest")
        .collect();
    // The refusal (the first from its network in the interval, so in full)
    // and the four answered requests.
    assert_eq!(harvests.len(), 5, "one entry per request");
    assert_eq!(harvests[0].outcome, lienthong_audit::Outcome::Denied);
    let listed = harvests.last().expect("the list's entry");
    let delivered = headers_of(&page.body).len();
    assert_eq!(
        listed.record_ids.len(),
        delivered,
        "the records it returned"
    );

    let closed = TestPki::new();
    let database = TestDatabase::sqlite();
    let only_vista =
        "[[grant]]\npeers = [\"system:vista\"]\nrpcs = [\"harvest\"]\nkinds = [\"project\"]\n";
    let node =
        SecureNode::start_with(&closed, NODE, &database.url, only_vista, &oai_section(10)).await;
    let refused = oai::get(
        node.oai_addr.expect("oai"),
        &node.tls.ca_bundle,
        "verb=Identify",
    )
    .await;
    assert_eq!(
        refused.status, 403,
        "no grant to \"public\": {}",
        refused.body
    );
}

/// The schema check itself can fail: elements out of the profile's order,
/// and an ORCID without its URL, are refused.
#[test]
fn the_schema_check_refuses_what_the_schemas_refuse() {
    if !oai::xmllint_available() {
        return;
    }
    let record = |person: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">\
             <responseDate>2026-01-01T00:00:00Z</responseDate>\
             <request verb=\"GetRecord\" identifier=\"oai:a.b:c\" metadataPrefix=\"oai_cerif_openaire\">https://a.b/oai</request>\
             <GetRecord><record><header><identifier>oai:a.b:c</identifier>\
             <datestamp>2026-01-01T00:00:00Z</datestamp></header><metadata>{person}</metadata></record></GetRecord></OAI-PMH>"
        )
    };
    let ns = "xmlns=\"https://www.openaire.eu/cerif-profile/1.2/\"";
    let good = format!(
        "<Person {ns} id=\"c\"><PersonName><FamilyNames>Nguyễn</FamilyNames></PersonName>\
         <ORCID>https://orcid.org/0000-0002-1825-0097</ORCID></Person>"
    );
    assert_eq!(oai::validate(&record(&good)), Ok(()));
    let misordered = format!(
        "<Person {ns} id=\"c\"><ORCID>https://orcid.org/0000-0002-1825-0097</ORCID>\
         <PersonName><FamilyNames>Nguyễn</FamilyNames></PersonName></Person>"
    );
    assert!(oai::validate(&record(&misordered)).is_err());
    let bare_orcid = format!("<Person {ns} id=\"c\"><ORCID>0000-0002-1825-0097</ORCID></Person>");
    assert!(oai::validate(&record(&bare_orcid)).is_err());
}

/// quoc-gia follows two provinces, publishes their public records over
/// OAI-PMH with a set for each, and reports each province's figures from
/// its mirrors to the national system, and to nobody else.
#[tokio::test]
async fn the_national_node_publishes_and_reports_every_province_it_follows() {
    let pki = TestPki::new();
    let province_policy = "[[grant]]\npeers = [\"node:quoc-gia\"]\nrpcs = [\"changes\"]\n\
                           kinds = [\"project\", \"publication\"]\n";
    let mut provinces = Vec::new();
    let mut follows = String::from("[sync]\ninterval_ms = 50\n");
    let mut shared: BTreeMap<String, Vec<AnyRecord>> = BTreeMap::new();
    for id in ["hung-yen", "nam-dinh"] {
        let database = TestDatabase::sqlite();
        let node = SecureNode::start_with(&pki, id, &database.url, province_policy, "").await;
        let records: Vec<AnyRecord> = sample_records(id, 40)
            .into_iter()
            .filter(|record| {
                matches!(
                    record.kind(),
                    lienthong_records::RecordKind::Project
                        | lienthong_records::RecordKind::Publication
                )
            })
            .collect();
        lienthong_tests::load(&node.store, records.clone()).await;
        shared.insert(
            id.to_owned(),
            records
                .into_iter()
                .filter(lienthong_tests::is_shareable)
                .collect(),
        );
        follows.push_str(&format!(
            "[[follow]]\npeer = \"{id}\"\nendpoint = \"{}\"\nkinds = [\"project\", \"publication\"]\n",
            node.url()
        ));
        provinces.push((database, node));
    }
    let national_policy = "[[grant]]\npeers = [\"public\", \"system:national-sti\"]\n\
         rpcs = [\"harvest\"]\nkinds = [\"project\", \"publication\"]\npublic_mirrors = true\n\
         [[grant]]\npeers = [\"system:national-sti\"]\nrpcs = [\"statistics\"]\n\
         kinds = [\"project\", \"publication\"]\n";
    let database = TestDatabase::sqlite();
    let oai_toml = oai_section(10).replace(
        "[oai]\n",
        "[oai]\nrepository_identifier = \"quoc-gia.lienthong.vn\"\n",
    );
    let national = SecureNode::start_aggregator(
        &pki,
        "quoc-gia",
        &database.url,
        national_policy,
        &format!("{oai_toml}{follows}"),
    )
    .await;
    let wanted: usize = shared.values().map(Vec::len).sum();
    let synced = lienthong_tests::wait_for(std::time::Duration::from_secs(30), || async {
        let syncs = national.store.peer_syncs().await.expect("status");
        syncs.iter().map(|sync| sync.mirrored).sum::<u64>() == wanted as u64
    })
    .await;
    assert!(synced, "quoc-gia mirrors both provinces");
    national.store.index_committed_writes().await;
    let oai = national.oai_addr.expect("oai");
    let ca = national.tls.ca_bundle.clone();

    // One set per province, holding exactly that province's public records.
    let listed = oai::get(oai, &ca, "verb=ListSets").await;
    for (province, records) in &shared {
        let set = format!("province_{province}");
        assert!(texts_of(&listed.body, "setSpec").contains(&set));
        let harvested: BTreeSet<String> = {
            let mut ids = BTreeSet::new();
            let mut query =
                format!("verb=ListIdentifiers&metadataPrefix=oai_cerif_openaire&set={set}");
            loop {
                let page = oai::get(oai, &ca, &query).await;
                assert_valid(&page, &query);
                ids.extend(headers_of(&page.body).into_iter().map(|(id, _)| id));
                match texts_of(&page.body, "resumptionToken").first() {
                    Some(token) if !token.is_empty() => {
                        query = format!("verb=ListIdentifiers&resumptionToken={token}");
                    }
                    _ => break,
                }
            }
            ids
        };
        let public: BTreeSet<String> = records
            .iter()
            .filter(|record| is_public(record))
            .map(|record| format!("oai:quoc-gia.lienthong.vn:{}", record.id()))
            .collect();
        assert!(!public.is_empty());
        assert_eq!(harvested, public, "{province}");
    }

    // The figures: each province's shared tasks, from the mirrors.
    let (national_sti, _) = pki.issue("system:national-sti");
    let figures = oai_path(
        oai,
        &ca,
        Credentials::Certificate(&national_sti),
        "/api/v1/figures",
    )
    .await;
    assert_eq!(figures.status, 200, "{}", figures.body);
    let figures: serde_json::Value = serde_json::from_str(&figures.body).expect("JSON");
    for (province, records) in &shared {
        let reported = figures["provinces"]
            .as_array()
            .expect("provinces")
            .iter()
            .find(|entry| entry["province"] == province.as_str())
            .unwrap_or_else(|| panic!("{province} in {figures}"));
        let projects: Vec<&pb::Project> = records
            .iter()
            .filter_map(|record| match record {
                AnyRecord::Project(project) => Some(project),
                _ => None,
            })
            .collect();
        let tasks = &reported["kinds"]["project"];
        assert_eq!(tasks["total"], projects.len() as u64, "{province}: {tasks}");
        let completed = projects
            .iter()
            .filter(|project| project.status == pb::ProjectStatus::Completed as i32)
            .count() as u64;
        assert_eq!(
            tasks["byStatus"]["completed"].as_u64().unwrap_or(0),
            completed,
            "{tasks}"
        );
        let agricultural = projects
            .iter()
            .filter(|project| project.field_codes.iter().any(|code| code.starts_with('4')))
            .count() as u64;
        assert_eq!(
            tasks["byField"]["4"].as_u64().unwrap_or(0),
            agricultural,
            "{tasks}"
        );
    }
    // Anonymous callers and identities without the grant get nothing.
    let anonymous = oai_path(oai, &ca, Credentials::None, "/api/v1/figures").await;
    assert_eq!(anonymous.status, 403, "{}", anonymous.body);
    let (other, _) = pki.issue("system:other");
    let refused = oai_path(
        oai,
        &ca,
        Credentials::Certificate(&other),
        "/api/v1/figures",
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
}

/// GET of any path on the HTTPS listener.
async fn oai_path(
    address: SocketAddr,
    ca: &std::path::Path,
    credentials: Credentials<'_>,
    path: &str,
) -> OaiResponse {
    oai::request_path(address, ca, credentials, path).await
}

/// Field sets are filters in the database: a field set lists exactly the
/// public records in that field, with its size, and learns of withdrawals.
#[tokio::test]
async fn a_field_set_lists_its_records_and_their_withdrawals() {
    for database in TestDatabase::each_backend().await {
        let at = node_with_samples_on(database, POLICY, 7).await;
        let in_field = |record: &AnyRecord| {
            lienthong_records::search_document::top_fields(record) & (1 << 4) != 0
        };
        let wanted: BTreeSet<String> = at
            .records
            .iter()
            .filter(|record| is_public(record) && in_field(record))
            .map(|record| oai_id(record.id()))
            .collect();
        assert!(
            wanted.len() > 7,
            "more than a page of public records in field 4"
        );
        // The next second: what comes `from` the first page's date is only
        // what changes after the load.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let first = oai::get(
            at.oai,
            &at.ca,
            "verb=ListIdentifiers&metadataPrefix=oai_dc&set=field_4",
        )
        .await;
        assert_eq!(
            attribute_of(&first.body, "resumptionToken", "completeListSize"),
            Some(wanted.len().to_string())
        );
        let started = texts_of(&first.body, "responseDate")[0].clone();
        let listed: BTreeSet<String> = harvest_all(
            &at,
            Credentials::None,
            "verb=ListIdentifiers&metadataPrefix=oai_dc&set=field_4",
        )
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
        assert_eq!(listed, wanted);
        let mut withdrawn = at
            .records
            .iter()
            .find(|record| is_public(record) && in_field(record))
            .expect("one")
            .clone();
        withdrawn.meta_mut().visibility = pb::Visibility::Federation as i32;
        at.node
            .store
            .upsert(vec![withdrawn.clone()])
            .await
            .expect("withdraw");
        let since = harvest_all(
            &at,
            Credentials::None,
            &format!("verb=ListIdentifiers&metadataPrefix=oai_dc&set=field_4&from={started}"),
        )
        .await;
        assert_eq!(since, [(oai_id(withdrawn.id()), true)]);
    }
}

/// A list whose next page held only a record that changed meanwhile still
/// answers that page, with the record as it is now, not noRecordsMatch.
#[tokio::test]
async fn a_page_whose_only_record_changed_meanwhile_delivers_it() {
    let pki = TestPki::new();
    let database = TestDatabase::sqlite();
    let node = SecureNode::start_with(&pki, NODE, &database.url, POLICY, &oai_section(2)).await;
    let tasks: Vec<AnyRecord> = (0..3)
        .map(|n| {
            let mut task = lienthong_tests::bulk_task(NODE, n);
            task.meta_mut().visibility = pb::Visibility::Public as i32;
            task
        })
        .collect();
    lienthong_tests::load(&node.store, tasks.clone()).await;
    let (oai_addr, ca) = (node.oai_addr.expect("oai"), node.tls.ca_bundle.clone());
    let first = oai::get(oai_addr, &ca, "verb=ListIdentifiers&metadataPrefix=oai_dc").await;
    assert_eq!(headers_of(&first.body).len(), 2);
    let token = texts_of(&first.body, "resumptionToken")[0].clone();
    let mut third = tasks[2].clone();
    if let AnyRecord::Project(project) = &mut third {
        project.summary = "Đã sửa sau khi trang đầu được gửi.".into();
    }
    node.store.upsert(vec![third]).await.expect("edit");
    let second = oai::get(
        oai_addr,
        &ca,
        &format!("verb=ListIdentifiers&resumptionToken={token}"),
    )
    .await;
    assert_valid(&second, "the page after the edit");
    assert_eq!(headers_of(&second.body), [(oai_id(tasks[2].id()), false)]);
    assert_eq!(texts_of(&second.body, "resumptionToken"), [""]);
}

#[test]
fn the_guidelines_examples_pass_the_schemas_and_the_schematron_rules() {
    let samples = oai::official_samples();
    assert_eq!(
        samples.len(),
        12,
        "the nine entity lists, Identify, ListMetadataFormats, ListSets"
    );
    let xmllint = oai::xmllint_available();
    for (name, xml) in &samples {
        if xmllint {
            assert_eq!(oai::validate(xml), Ok(()), "{name}");
        }
        assert_eq!(
            oai::schematron_violations(xml),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

#[test]
fn the_schematron_rules_catch_what_they_forbid() {
    let access = "xmlns=\"http://purl.org/coar/access_right\"";
    let embargoed = "http://purl.org/coar/access_right/c_f1cf";
    let open = "http://purl.org/coar/access_right/c_abf2";
    for (broken, rule) in [
        (
            "<OAMandate mandated=\"false\" uri=\"http://x\"/>".to_owned(),
            "mandated",
        ),
        (
            format!("<Access {access} startDate=\"2020-01-01\">{open}</Access>"),
            "startDate",
        ),
        (
            format!("<Access {access}>{embargoed}</Access>"),
            "without endDate",
        ),
        (
            format!("<Access endDate=\"2020-01-01\" {access}>{open}</Access>"),
            "not embargoed",
        ),
        (
            "<Affiliation startDate=\"2020\" endDate=\"2019-05\"/>".to_owned(),
            "after it ends",
        ),
    ] {
        let found = oai::schematron_violations(&broken);
        assert!(
            found.iter().any(|violation| violation.contains(rule)),
            "{broken}: {found:?}"
        );
    }
    // The end period is inclusive, and times are not the rule's business.
    for fine in [
        "<Affiliation startDate=\"2019-06-01\" endDate=\"2019-05\"/>",
        "<Affiliation startDate=\"2019-05-31\" endDate=\"2019-05-31\"/>",
        "<Affiliation startDate=\"2021-01-01T00:00:00Z\" endDate=\"2019\"/>",
    ] {
        assert_eq!(
            oai::schematron_violations(fine),
            Vec::<String>::new(),
            "{fine}"
        );
    }
}

/// Thousands of records harvested in pages while, between every two pages,
/// a record is added, one not yet delivered is edited, one deleted, one
/// withdrawn, and one already delivered edited. Checked exactly: each
/// untouched record once; the next incremental harvest has every touched
/// one, live or as a deletion, and nothing else.
#[tokio::test]
async fn thousands_of_records_harvested_while_every_page_brings_changes() {
    for database in TestDatabase::each_backend().await {
        let pki = TestPki::new();
        let node =
            SecureNode::start_with(&pki, NODE, &database.url, POLICY, &oai_section(100)).await;
        let public_task = |n: usize| {
            let mut task = lienthong_tests::bulk_task(NODE, n);
            task.meta_mut().visibility = pb::Visibility::Public as i32;
            task
        };
        let tasks: Vec<AnyRecord> = (0..3_000).map(public_task).collect();
        lienthong_tests::load(&node.store, tasks.clone()).await;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (address, ca) = (node.oai_addr.expect("oai"), node.tls.ca_bundle.clone());

        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut touched: BTreeMap<String, bool> = BTreeMap::new(); // id -> deleted
        let mut query = "verb=ListIdentifiers&metadataPrefix=oai_dc".to_owned();
        let mut started = None;
        let mut round = 0usize;
        loop {
            let page = oai::get(address, &ca, &query).await;
            assert_eq!(page.status, 200);
            assert!(texts_of(&page.body, "error").is_empty(), "{}", page.body);
            started.get_or_insert_with(|| texts_of(&page.body, "responseDate")[0].clone());
            for (id, _) in headers_of(&page.body) {
                *counts.entry(id).or_default() += 1;
            }
            let token = texts_of(&page.body, "resumptionToken")
                .into_iter()
                .next()
                .unwrap_or_default();
            if token.is_empty() {
                break;
            }
            // Untouched records not yet delivered, from the end of the list.
            let mut pending = tasks.iter().rev().filter(|task| {
                let id = oai_id(task.id());
                !counts.contains_key(&id) && !touched.contains_key(&id)
            });
            let (edit, delete, withdraw) = (
                pending.next().expect("pending").clone(),
                pending.next().expect("pending").clone(),
                pending.next().expect("pending").clone(),
            );
            let delivered = tasks
                .iter()
                .find(|task| {
                    let id = oai_id(task.id());
                    counts.contains_key(&id) && !touched.contains_key(&id)
                })
                .expect("a delivered record")
                .clone();
            let mut edited = Vec::new();
            for mut task in [edit, delivered] {
                if let AnyRecord::Project(project) = &mut task {
                    project.summary = format!("Cập nhật lần {round}.");
                }
                touched.insert(oai_id(task.id()), false);
                edited.push(task);
            }
            let mut withdrawn = withdraw;
            withdrawn.meta_mut().visibility = pb::Visibility::Internal as i32;
            touched.insert(oai_id(withdrawn.id()), true);
            let added = public_task(10_000 + round);
            touched.insert(oai_id(added.id()), false);
            edited.push(withdrawn);
            edited.push(added);
            node.store
                .upsert(edited)
                .await
                .expect("changes between pages");
            node.store
                .delete(delete.id())
                .await
                .expect("delete between pages");
            touched.insert(oai_id(delete.id()), true);
            round += 1;
            query = format!("verb=ListIdentifiers&resumptionToken={token}");
        }
        assert!(round >= 25, "{round} pages");
        assert!(counts.values().all(|count| *count == 1), "nothing twice");
        for task in &tasks {
            let id = oai_id(task.id());
            if !touched.contains_key(&id) {
                assert_eq!(counts.get(&id), Some(&1), "{id}: untouched, exactly once");
            }
        }
        let started = started.expect("a first page");
        let mut incremental: BTreeMap<String, bool> = BTreeMap::new();
        let mut query = format!("verb=ListIdentifiers&metadataPrefix=oai_dc&from={started}");
        loop {
            let page = oai::get(address, &ca, &query).await;
            for (id, deleted) in headers_of(&page.body) {
                assert!(incremental.insert(id, deleted).is_none(), "once each");
            }
            match texts_of(&page.body, "resumptionToken").first() {
                Some(token) if !token.is_empty() => {
                    query = format!("verb=ListIdentifiers&resumptionToken={token}");
                }
                _ => break,
            }
        }
        assert_eq!(incremental, touched, "{:?}", database.backend);
    }
}
