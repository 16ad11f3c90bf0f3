//! Properties of the generated sample data, through the public API only.

use std::collections::{BTreeMap, BTreeSet};

use lienthong_proto::v1::{
    AcademicTitle, Classification, Degree, ProjectStatus, Record, Visibility, record,
};
use lienthong_sample::{ProvinceProfile, SampleGenerator, SampleSpec};
use prost::Message;

fn hung_yen(experts: u64) -> SampleGenerator {
    SampleGenerator::new(SampleSpec::sized(ProvinceProfile::hung_yen(), experts))
}

fn encoded(generator: &SampleGenerator) -> Vec<Vec<u8>> {
    generator.records().map(|r| r.encode_to_vec()).collect()
}

/// (node, kind, local) of a global id.
fn parse_id(id: &str) -> (&str, &str, &str) {
    let mut parts = id.split(':');
    let node = parts.next().expect("node part");
    let kind = parts.next().expect("kind part");
    let local = parts.next().expect("local part");
    assert!(parts.next().is_none(), "{id}");
    (node, kind, local)
}

/// Index of a local id like "E0000042".
fn local_index(local: &str, letter: char, width: usize) -> u64 {
    assert!(local.starts_with(letter), "{local}");
    assert!(local.len() > width, "{local}");
    local[1..].parse().expect("numeric local id")
}

/// Day number of an ISO date "YYYY-MM-DD" (days from civil, H. Hinnant).
fn day(date: &str) -> i64 {
    assert_eq!(date.len(), 10, "{date}");
    let y: i64 = date[0..4].parse().expect("numeric date");
    let m: i64 = date[5..7].parse().expect("numeric date");
    let d: i64 = date[8..10].parse().expect("numeric date");
    assert!((1..=12).contains(&m) && (1..=31).contains(&d), "{date}");
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// Precomposed Vietnamese letters (NFC forms) beyond ASCII.
const VIETNAMESE: &str = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ\
ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ";

/// A hand check of NFC for Vietnamese text: no combining marks, and every non-ASCII
/// character is one of the precomposed Vietnamese letters (or the en dash).
fn is_nfc_vietnamese(text: &str) -> bool {
    text.chars().all(|c| {
        !('\u{0300}'..='\u{036F}').contains(&c)
            && (c.is_ascii() || c == '–' || VIETNAMESE.contains(c))
    })
}

#[test]
fn same_spec_same_bytes_other_seed_other_bytes() {
    let a = hung_yen(2_000);
    let b = hung_yen(2_000);
    assert_eq!(encoded(&a), encoded(&b));

    let mut spec = SampleSpec::sized(ProvinceProfile::hung_yen(), 2_000);
    spec.seed = 7;
    let c = SampleGenerator::new(spec);
    let (ea, ec) = (encoded(&a), encoded(&c));
    assert_eq!(ea.len(), ec.len());
    // Organizations have fixed names, but their timestamps differ; every kind moves.
    let differing = ea.iter().zip(&ec).filter(|(x, y)| x != y).count();
    assert!(differing > ea.len() * 9 / 10, "{differing} of {}", ea.len());

    let nd = SampleGenerator::new(SampleSpec::sized(ProvinceProfile::nam_dinh(), 2_000));
    assert_ne!(
        a.expert(5).full_name + &a.expert(6).full_name,
        nd.expert(5).full_name + &nd.expert(6).full_name
    );
}

#[test]
fn records_come_in_order_and_match_single_generation() {
    let g = hung_yen(1_000);
    let spec = g.spec().clone();
    assert_eq!(g.records().count() as u64, spec.total());
    let mut records = g.records();
    for i in 0..spec.organizations {
        assert_eq!(
            records.next().unwrap(),
            Record {
                record: Some(record::Record::Organization(g.organization(i)))
            }
        );
    }
    for i in 0..spec.experts {
        assert_eq!(
            records.next().unwrap(),
            Record {
                record: Some(record::Record::Expert(g.expert(i)))
            }
        );
    }
    for i in 0..spec.projects {
        assert_eq!(
            records.next().unwrap(),
            Record {
                record: Some(record::Record::Project(g.project(i)))
            }
        );
    }
    for i in 0..spec.publications {
        assert_eq!(
            records.next().unwrap(),
            Record {
                record: Some(record::Record::Publication(g.publication(i)))
            }
        );
    }
    assert!(records.next().is_none());
}

#[test]
fn sized_proportions() {
    let s = SampleSpec::sized(ProvinceProfile::nam_dinh(), 1_000_000);
    assert_eq!(
        (s.organizations, s.projects, s.publications, s.seed),
        (2_000, 250_000, 500_000, 2023)
    );
    assert_eq!(s.total(), 1_752_000);
    let s = SampleSpec::sized(ProvinceProfile::hung_yen(), 3);
    assert_eq!((s.organizations, s.projects, s.publications), (10, 1, 1));
    let s = SampleSpec::sized(ProvinceProfile::hung_yen(), 0);
    assert_eq!(
        (s.organizations, s.experts, s.projects, s.publications),
        (10, 0, 0, 0)
    );
    assert_eq!(ProvinceProfile::hung_yen().province_name, "Hưng Yên");
    assert_eq!(ProvinceProfile::nam_dinh().code_prefix, "ND");
}

#[test]
fn every_id_names_its_node_kind_and_index() {
    let profile = ProvinceProfile::custom("ninh-binh", "Ninh Bình", "NB");
    let g = SampleGenerator::new(SampleSpec::sized(profile, 800));
    let mut seen = BTreeSet::new();
    let mut counters: BTreeMap<&str, u64> = BTreeMap::new();
    for r in g.records() {
        let (id, kind, letter, width) = match r.record.unwrap() {
            record::Record::Organization(o) => (o.meta.unwrap().id, "organization", 'O', 5),
            record::Record::Expert(e) => (e.meta.unwrap().id, "expert", 'E', 7),
            record::Record::Project(p) => (p.meta.unwrap().id, "project", 'P', 6),
            record::Record::Publication(p) => (p.meta.unwrap().id, "publication", 'B', 7),
        };
        let (node, parsed_kind, local) = parse_id(&id);
        assert_eq!(node, "ninh-binh");
        assert_eq!(parsed_kind, kind);
        let expected = counters.entry(kind).or_default();
        assert_eq!(local_index(local, letter, width), *expected, "{id}");
        *expected += 1;
        assert!(seen.insert(id));
    }
}

#[test]
fn meta_is_complete() {
    let g = hung_yen(2_000);
    for r in g.records() {
        let meta = match r.record.unwrap() {
            record::Record::Organization(o) => o.meta,
            record::Record::Expert(e) => e.meta,
            record::Record::Project(p) => p.meta,
            record::Record::Publication(p) => p.meta,
        }
        .unwrap();
        assert_eq!(meta.version, 1);
        assert_eq!(meta.created_at, meta.updated_at);
        let at = &meta.created_at;
        assert_eq!(at.len(), 20, "{at}");
        assert!(at.ends_with('Z') && &at[10..11] == "T", "{at}");
        assert!(("2015".."2026").contains(&&at[..4]), "{at}");
        day(&at[..10]);
        assert_ne!(meta.visibility, Visibility::Unspecified as i32);
        assert_ne!(meta.classification, Classification::Unspecified as i32);
    }
}

#[test]
fn expert_distributions_on_20000() {
    let g = hung_yen(20_000);
    let n = 20_000u64;
    let mut nguyen = 0;
    let mut with_d = 0;
    let mut four_syllables = 0;
    let mut doctors = 0;
    let mut professors = 0;
    let mut associate = 0;
    let mut orcids = 0;
    let mut federation = 0;
    let mut legacy = 0;
    let mut names = BTreeSet::new();
    for i in 0..n {
        let e = g.expert(i);
        let name = &e.full_name;
        assert!(is_nfc_vietnamese(name), "{name:?}");
        assert!(
            is_nfc_vietnamese(&e.organization_name),
            "{:?}",
            e.organization_name
        );
        assert!(is_nfc_vietnamese(&e.specialization));
        let words = name.split(' ').count();
        assert!((3..=4).contains(&words), "{name}");
        four_syllables += usize::from(words == 4);
        nguyen += usize::from(name.starts_with("Nguyễn "));
        with_d += usize::from(name.contains('Đ') || name.contains('đ'));
        doctors += usize::from(e.degree == Degree::Doctor as i32);
        professors += usize::from(e.academic_title == AcademicTitle::Professor as i32);
        associate += usize::from(e.academic_title == AcademicTitle::AssociateProfessor as i32);
        assert!((1950..=1998).contains(&e.birth_year));
        let ids = e.identifiers.unwrap();
        if !ids.orcid.is_empty() {
            orcids += 1;
            assert_eq!(ids.orcid.len(), 19);
        }
        federation +=
            usize::from(e.meta.as_ref().unwrap().visibility == Visibility::Federation as i32);
        assert_eq!(
            e.meta.unwrap().classification,
            Classification::Normal as i32
        );
        assert!((1..=2).contains(&e.field_codes.len()));
        let first = e.field_codes[0].as_bytes()[0];
        for code in &e.field_codes {
            assert!(code.len() == 7 || code.len() == 5, "{code}");
            assert!((b'1'..=b'6').contains(&code.as_bytes()[0]), "{code}");
            assert_eq!(code.as_bytes()[0], first, "one field per expert");
        }
        legacy += usize::from(e.field_codes[0].len() == 5);
        let contact = e.contact.unwrap();
        assert!(
            contact.email.is_ascii() && contact.email.contains('@'),
            "{}",
            contact.email
        );
        assert!(contact.phone.starts_with("09") && contact.phone.len() == 10);
        let (_, kind, local) = parse_id(&e.organization_id);
        assert_eq!(kind, "organization");
        let org = local_index(local, 'O', 5);
        assert!(org < g.spec().organizations);
        assert_eq!(g.organization(org).name, e.organization_name);
        names.insert(e.full_name);
    }
    let share = |count: usize| count as f64 / n as f64;
    assert!(
        (0.30..=0.45).contains(&share(nguyen)),
        "Nguyễn {}",
        share(nguyen)
    );
    assert!(with_d > 0);
    assert!(
        (0.03..=0.15).contains(&share(four_syllables)),
        "{}",
        share(four_syllables)
    );
    assert!(
        (0.28..=0.42).contains(&share(doctors)),
        "TS {}",
        share(doctors)
    );
    assert!(
        (0.01..=0.035).contains(&share(professors)),
        "GS {}",
        share(professors)
    );
    assert!(
        (0.06..=0.10).contains(&share(associate)),
        "PGS {}",
        share(associate)
    );
    assert!(
        (0.26..=0.34).contains(&share(orcids)),
        "ORCID {}",
        share(orcids)
    );
    assert!((0.82..=0.88).contains(&share(federation)));
    assert!(
        (0.15..=0.25).contains(&share(legacy)),
        "legacy {}",
        share(legacy)
    );
    // Both tone placements occur, and the example name occurs, rarely.
    let joined: String = names.iter().cloned().collect::<Vec<_>>().join("|");
    assert!(joined.contains("Hoà") && joined.contains("Hòa"));
    assert!(joined.contains("Thuỷ") && joined.contains("Thủy"));
    assert!(names.len() > 5_000, "{} distinct names", names.len());
}

#[test]
fn project_lifecycle_dates_and_budgets() {
    let spec = SampleSpec {
        profile: ProvinceProfile::hung_yen(),
        seed: 2023,
        organizations: 400,
        experts: 20_000,
        projects: 5_000,
        publications: 0,
    };
    let g = SampleGenerator::new(spec);
    let first = day("1997-01-01");
    let last = day("2025-12-31");
    let mut statuses = BTreeMap::new();
    let mut archived_early = 0;
    let mut early_completed = 0;
    let mut classified = 0;
    let mut fields = BTreeSet::new();
    for i in 0..5_000 {
        let p = g.project(i);
        let status = ProjectStatus::try_from(p.status).unwrap();
        *statuses.entry(status as i32).or_insert(0u32) += 1;
        for date in [
            &p.planned_start,
            &p.planned_end,
            &p.actual_start,
            &p.actual_end,
            &p.acceptance_date,
            &p.result_registration_date,
        ] {
            if !date.is_empty() {
                let d = day(date);
                assert!((first..=last).contains(&d), "{} {date}", p.code);
            }
        }
        assert!(p.planned_start < p.planned_end);
        assert!(p.state_budget_vnd <= p.total_budget_vnd);
        assert!((200_000_000..=5_000_000_000).contains(&p.total_budget_vnd));
        assert!(
            p.code.starts_with("ĐT.HY.") || p.code.starts_with("DA.HY."),
            "{}",
            p.code
        );
        assert!(
            p.code.contains(&p.planned_start[..4]),
            "{} {}",
            p.code,
            p.planned_start
        );
        assert!(
            is_nfc_vietnamese(&p.title)
                && is_nfc_vietnamese(&p.summary)
                && is_nfc_vietnamese(&p.objectives)
        );
        assert!((2..=6).contains(&p.members.len()));
        fields.insert(p.field_codes[0].as_bytes()[0]);
        let lead = p.lead.unwrap();
        let (_, _, local) = parse_id(&lead.expert_id);
        let lead_expert = g.expert(local_index(local, 'E', 7));
        assert_eq!(lead.name, lead_expert.full_name);
        assert_eq!(p.host_organization_id, lead_expert.organization_id);
        assert_eq!(p.host_organization_name, lead_expert.organization_name);
        for m in &p.members {
            if !m.expert_id.is_empty() {
                let (_, _, local) = parse_id(&m.expert_id);
                assert_eq!(m.name, g.expert(local_index(local, 'E', 7)).full_name);
            }
        }
        let meta = p.meta.unwrap();
        if meta.classification != Classification::Normal as i32 {
            classified += 1;
        }
        match status {
            ProjectStatus::Completed => {
                assert!(!p.actual_end.is_empty() && !p.acceptance_date.is_empty());
                assert!(day(&p.acceptance_date) > day(&p.actual_end));
                if !p.result_registration_date.is_empty() {
                    let gap = day(&p.result_registration_date) - day(&p.acceptance_date);
                    assert!((1..=30).contains(&gap), "{gap}");
                    assert!(p.result_registration_number.ends_with("/ĐKKQ-SKHCN"));
                }
                if p.planned_start.as_str() < "2001" {
                    early_completed += 1;
                    archived_early += usize::from(
                        !p.archive_reference.is_empty() && (40..=400).contains(&p.digitized_pages),
                    );
                }
            }
            ProjectStatus::Proposed => {
                assert_eq!(meta.visibility, Visibility::Internal as i32);
                assert!(p.actual_start.is_empty());
            }
            ProjectStatus::Approved => assert!(p.actual_start.is_empty()),
            ProjectStatus::Ongoing => {
                assert!(!p.actual_start.is_empty() && p.actual_end.is_empty());
                assert!(p.planned_end.as_str() >= "2025");
            }
            ProjectStatus::Cancelled => assert!(p.acceptance_date.is_empty()),
            ProjectStatus::Unspecified => panic!("unspecified status"),
        }
        if matches!(
            status,
            ProjectStatus::Proposed | ProjectStatus::Approved | ProjectStatus::Ongoing
        ) {
            assert!(
                p.planned_start.as_str() >= "2021",
                "{} {:?}",
                p.planned_start,
                status
            );
        }
    }
    assert_eq!(statuses.len(), 5, "{statuses:?}");
    let completed = statuses[&(ProjectStatus::Completed as i32)];
    assert!(completed > 2_500, "{statuses:?}");
    assert!(early_completed > 0 && archived_early == early_completed);
    assert!((20..=200).contains(&classified), "{classified}");
    assert_eq!(fields.len(), 6);
}

#[test]
fn publications_name_their_authors_as_the_experts() {
    let g = SampleGenerator::new(SampleSpec::sized(ProvinceProfile::nam_dinh(), 4_000));
    let spec = g.spec().clone();
    let mut with_project = 0;
    let mut english = 0;
    let mut doi = 0;
    for i in 0..spec.publications {
        let p = g.publication(i);
        assert!((1..=5).contains(&p.authors.len()));
        let mut ids = BTreeSet::new();
        for a in &p.authors {
            let (node, kind, local) = parse_id(&a.expert_id);
            assert_eq!((node, kind), ("nam-dinh", "expert"));
            let j = local_index(local, 'E', 7);
            assert!(j < spec.experts);
            assert_eq!(a.name, g.expert(j).full_name);
            assert!(ids.insert(j), "duplicate author");
        }
        assert!((1997..=2025).contains(&p.year));
        assert!(p.language == "vi" || p.language == "en");
        english += usize::from(p.language == "en");
        if !p.doi.is_empty() {
            doi += 1;
            assert!(p.doi.starts_with("10."), "{}", p.doi);
        }
        assert!(
            is_nfc_vietnamese(&p.title)
                && is_nfc_vietnamese(&p.r#abstract)
                && is_nfc_vietnamese(&p.venue)
        );
        if !p.project_id.is_empty() {
            with_project += 1;
            let (_, kind, local) = parse_id(&p.project_id);
            assert_eq!(kind, "project");
            assert!(local_index(local, 'P', 6) < spec.projects);
        }
    }
    let n = spec.publications as f64;
    assert!((0.44..=0.56).contains(&(with_project as f64 / n)));
    assert!((0.20..=0.30).contains(&(english as f64 / n)));
    assert!((0.34..=0.46).contains(&(doi as f64 / n)));
}

#[test]
fn organization_names_are_unique_and_links_resolve() {
    for profile in [
        ProvinceProfile::hung_yen(),
        ProvinceProfile::nam_dinh(),
        ProvinceProfile::custom("lai-chau", "Lai Châu", "LC"),
    ] {
        let node = profile.node_id.clone();
        let g = SampleGenerator::new(SampleSpec::sized(profile, 200_000));
        let n = g.spec().organizations;
        assert_eq!(n, 2_000);
        let orgs: Vec<_> = (0..n).map(|i| g.organization(i)).collect();
        let names: BTreeSet<&str> = orgs.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names.len(), orgs.len(), "{node}");
        assert!(orgs[0].name.starts_with("Sở Khoa học và Công nghệ "));
        let ids: BTreeSet<String> = orgs
            .iter()
            .map(|o| o.meta.as_ref().unwrap().id.clone())
            .collect();
        let mut with_parent = 0;
        let mut with_predecessors = 0;
        for o in &orgs {
            assert!(is_nfc_vietnamese(&o.name), "{}", o.name);
            assert!(!o.abbreviation.is_empty() && !o.province.is_empty());
            assert_eq!(o.agency_code.len(), 13, "{}", o.agency_code);
            for link in o
                .predecessor_ids
                .iter()
                .chain([&o.parent_id, &o.successor_id])
            {
                assert!(link.is_empty() || ids.contains(link), "{link}");
            }
            with_parent += usize::from(!o.parent_id.is_empty());
            with_predecessors += usize::from(!o.predecessor_ids.is_empty());
        }
        assert!(with_parent > 50, "{node}: {with_parent}");
        assert!(with_predecessors >= 1, "{node}");
        // Small specs still link only to organizations that exist.
        let small = SampleGenerator::new(SampleSpec::sized(ProvinceProfile::hung_yen(), 10));
        for i in 0..10 {
            let o = small.organization(i);
            for link in o
                .predecessor_ids
                .iter()
                .chain([&o.parent_id, &o.successor_id])
            {
                if !link.is_empty() {
                    let (_, _, local) = parse_id(link);
                    assert!(local_index(local, 'O', 5) < 10);
                }
            }
        }
    }
}

#[test]
fn empty_kinds_leave_links_empty() {
    let spec = SampleSpec {
        profile: ProvinceProfile::hung_yen(),
        seed: 1,
        organizations: 0,
        experts: 0,
        projects: 20,
        publications: 20,
    };
    let g = SampleGenerator::new(spec);
    for i in 0..20 {
        let p = g.project(i);
        let lead = p.lead.unwrap();
        assert!(lead.expert_id.is_empty() && !lead.name.is_empty());
        assert!(p.members.iter().all(|m| m.expert_id.is_empty()));
        assert!(p.host_organization_id.is_empty());
        let b = g.publication(i);
        assert!(!b.authors.is_empty() && b.authors.iter().all(|a| a.expert_id.is_empty()));
    }
    let spec = SampleSpec {
        profile: ProvinceProfile::nam_dinh(),
        seed: 1,
        organizations: 0,
        experts: 50,
        projects: 0,
        publications: 50,
    };
    let g = SampleGenerator::new(spec);
    for i in 0..50 {
        assert!(g.expert(i).organization_id.is_empty());
        assert!(g.publication(i).project_id.is_empty());
    }
}

#[test]
fn the_example_name_occurs_but_rarely() {
    let g = hung_yen(100_000);
    let hits = (0..100_000)
        .filter(|i| g.expert(*i).full_name == "Nguyễn Xuân Hải")
        .count();
    assert!((1..=100).contains(&hits), "{hits}");
}
