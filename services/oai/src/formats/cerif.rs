//! `oai_cerif_openaire`: the OpenAIRE Guidelines for CRIS Managers 1.2
//! (CERIF XML). Experts are `Person`s, tasks `Project`s, papers
//! `Publication`s and organizations `OrgUnit`s. Elements follow the
//! profile's order; a value the profile constrains (ORCID, DOI, dates,
//! Scopus and ResearcherID) goes out only when it has the profile's form.
//!
//! An embedded record carries an `id` only when the record it names was
//! left in by the disclosure decision (so the same harvester can get it);
//! otherwise only its name as written. The lists behind our own `scheme`
//! URIs (titles, degrees, field codes, project types, levels and statuses,
//! provinces) are under [`VOCABULARY`].

use lienthong_proto::v1 as pb;
use lienthong_records::AnyRecord;

use crate::xml::XmlWriter;

pub const PREFIX: &str = "oai_cerif_openaire";
pub const NAMESPACE: &str = "https://www.openaire.eu/cerif-profile/1.2/";
pub const SCHEMA: &str = "https://www.openaire.eu/schema/cris/1.2/openaire-cerif-profile.xsd";

/// Where the project's own classification schemes live.
pub const VOCABULARY: &str = "https://lienthong.vn/vocab/";

const PUBLICATION_TYPES: &str =
    "https://www.openaire.eu/cerif-profile/vocab/COAR_Publication_Types";
const FUNDING_TYPES: &str = "https://www.openaire.eu/cerif-profile/vocab/OpenAIRE_Funding_Types";
const ORGANISATION_TYPES: &str = "https://w3id.org/cerif/vocab/OrganisationTypes";
const ACCESS_RIGHTS: &str = "http://purl.org/coar/access_right";

/// Writes `record` as its CERIF entity.
pub fn write(xml: &mut XmlWriter, record: &AnyRecord) {
    let id = record.id();
    match record {
        AnyRecord::Expert(expert) => person(xml, id, expert),
        AnyRecord::Project(project) => project_entity(xml, id, project),
        AnyRecord::Publication(publication) => publication_entity(xml, id, publication),
        AnyRecord::Organization(organization) => org_unit(xml, id, organization),
    }
}

fn person(xml: &mut XmlWriter, id: &str, expert: &pb::Expert) {
    let mut attributes = vec![("xmlns", NAMESPACE)];
    attributes.extend(id_attribute(id));
    xml.open("Person", &attributes);
    person_name(xml, &expert.full_name);
    match pb::Gender::try_from(expert.gender) {
        Ok(pb::Gender::Male) => {
            xml.element("Gender", &[], "m");
        }
        Ok(pb::Gender::Female) => {
            xml.element("Gender", &[], "f");
        }
        _ => {}
    }
    if let Some(ids) = &expert.identifiers {
        if let Some(orcid) = orcid(&ids.orcid) {
            xml.element("ORCID", &[], &orcid);
        }
        if researcher_id(&ids.researcher_id) {
            xml.element("ResearcherID", &[], &ids.researcher_id);
        }
        let scopus = ids.scopus_author_id.trim();
        if (10..=11).contains(&scopus.len()) && scopus.bytes().all(|b| b.is_ascii_digit()) {
            xml.element("ScopusAuthorID", &[], scopus);
        }
    }
    // Contact details are here only where the disclosure decision left them.
    if let Some(contact) = &expert.contact {
        if !contact.email.trim().is_empty() && !contact.email.contains(char::is_whitespace) {
            xml.element(
                "ElectronicAddress",
                &[],
                &format!("mailto:{}", contact.email.trim()),
            );
        }
        let phone: String = contact
            .phone
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if !phone.is_empty()
            && phone
                .chars()
                .all(|c| c.is_ascii_digit() || "+-().".contains(c))
        {
            xml.element("ElectronicAddress", &[], &format!("tel:{phone}"));
        }
    }
    if !expert.organization_id.is_empty() || !expert.organization_name.trim().is_empty() {
        xml.open("Affiliation", &[]);
        embedded_org_unit(xml, &expert.organization_id, &expert.organization_name);
        xml.close();
    }
    let title = match pb::AcademicTitle::try_from(expert.academic_title) {
        Ok(pb::AcademicTitle::Professor) => Some("professor"),
        Ok(pb::AcademicTitle::AssociateProfessor) => Some("associate-professor"),
        _ => None,
    };
    if let Some(title) = title {
        own_class(xml, "Classification", "academic-title", title);
    }
    let degree = match pb::Degree::try_from(expert.degree) {
        Ok(pb::Degree::DoctorOfScience) => Some("doctor-of-science"),
        Ok(pb::Degree::Doctor) => Some("doctor"),
        Ok(pb::Degree::Master) => Some("master"),
        Ok(pb::Degree::Engineer) => Some("engineer"),
        Ok(pb::Degree::Bachelor) => Some("bachelor"),
        Ok(pb::Degree::MedicalDoctor) => Some("medical-doctor"),
        _ => None,
    };
    if let Some(degree) = degree {
        own_class(xml, "Classification", "degree", degree);
    }
    field_codes(xml, "Classification", &expert.field_codes);
    xml.close();
}

fn project_entity(xml: &mut XmlWriter, id: &str, project: &pb::Project) {
    let mut attributes = vec![("xmlns", NAMESPACE)];
    attributes.extend(id_attribute(id));
    xml.open("Project", &attributes);
    let project_type = match pb::ProjectType::try_from(project.project_type) {
        Ok(pb::ProjectType::Research) => Some("research"),
        Ok(pb::ProjectType::ProductionTrial) => Some("production-trial"),
        _ => None,
    };
    if let Some(project_type) = project_type {
        own_class(xml, "Type", "project-type", project_type);
    }
    let level = match pb::ManagementLevel::try_from(project.management_level) {
        Ok(pb::ManagementLevel::National) => Some("national"),
        Ok(pb::ManagementLevel::Ministry) => Some("ministry"),
        Ok(pb::ManagementLevel::Province) => Some("province"),
        Ok(pb::ManagementLevel::Grassroots) => Some("grassroots"),
        _ => None,
    };
    if let Some(level) = level {
        own_class(xml, "Type", "management-level", level);
    }
    xml.element_if("Acronym", &[], &project.code);
    xml.element_if("Title", &[("xml:lang", "vi")], &project.title);
    if !project.code.trim().is_empty() {
        xml.element(
            "Identifier",
            &[(
                "type",
                "https://w3id.org/cerif/vocab/IdentifierTypes#ProjectReference",
            )],
            project.code.trim(),
        );
    }
    for (element, actual, planned) in [
        ("StartDate", &project.actual_start, &project.planned_start),
        ("EndDate", &project.actual_end, &project.planned_end),
    ] {
        if let Some(date) = [actual, planned].into_iter().find(|date| full_date(date)) {
            xml.element(element, &[], date);
        }
    }
    if !project.host_organization_id.is_empty() || !project.host_organization_name.trim().is_empty()
    {
        xml.open("Consortium", &[]).open("Coordinator", &[]);
        embedded_org_unit(
            xml,
            &project.host_organization_id,
            &project.host_organization_name,
        );
        xml.close().close();
    }
    let members: Vec<&pb::ProjectPerson> = project.members.iter().collect();
    if project.lead.is_some() || !members.is_empty() {
        xml.open("Team", &[]);
        if let Some(lead) = &project.lead {
            team_member(xml, "PrincipalInvestigator", lead);
        }
        for member in members {
            team_member(xml, "Member", member);
        }
        xml.close();
    }
    let state = project.state_budget_vnd;
    let other = project.total_budget_vnd.saturating_sub(state);
    if state > 0 {
        funded(
            xml,
            (&project.managing_agency, ""),
            "Contract",
            "Kinh phí ngân sách nhà nước",
            state,
        );
    }
    if other > 0 {
        funded(
            xml,
            (
                &project.host_organization_name,
                &project.host_organization_id,
            ),
            "InternalFunding",
            "Kinh phí ngoài ngân sách nhà nước",
            other,
        );
    }
    field_codes(xml, "Subject", &project.field_codes);
    for keyword in &project.keywords {
        xml.element_if("Keyword", &[("xml:lang", "vi")], keyword);
    }
    xml.element_if("Abstract", &[("xml:lang", "vi")], &project.objectives);
    xml.element_if("Abstract", &[("xml:lang", "vi")], &project.summary);
    let status = match pb::ProjectStatus::try_from(project.status) {
        Ok(pb::ProjectStatus::Proposed) => Some("proposed"),
        Ok(pb::ProjectStatus::Approved) => Some("approved"),
        Ok(pb::ProjectStatus::Ongoing) => Some("ongoing"),
        Ok(pb::ProjectStatus::Completed) => Some("completed"),
        Ok(pb::ProjectStatus::Cancelled) => Some("cancelled"),
        _ => None,
    };
    if let Some(status) = status {
        own_class(xml, "Status", "project-status", status);
    }
    xml.close();
}

fn publication_entity(xml: &mut XmlWriter, id: &str, publication: &pb::Publication) {
    let mut attributes = vec![("xmlns", NAMESPACE)];
    attributes.extend(id_attribute(id));
    xml.open("Publication", &attributes);
    // Journal article: the only kind of paper the records hold.
    xml.element(
        "Type",
        &[("xmlns", PUBLICATION_TYPES)],
        "http://purl.org/coar/resource_type/c_6501",
    );
    xml.element_if("Language", &[], &publication.language);
    xml.element_if(
        "Title",
        &[("xml:lang", language_or_vi(&publication.language))],
        &publication.title,
    );
    if !publication.venue.trim().is_empty() {
        xml.open("PublishedIn", &[]).open("Publication", &[]);
        xml.element(
            "Type",
            &[("xmlns", PUBLICATION_TYPES)],
            "http://purl.org/coar/resource_type/c_0640",
        );
        xml.element("Title", &[], publication.venue.trim());
        xml.close().close();
    }
    if publication.year > 0 {
        xml.element("PublicationDate", &[], &format!("{:04}", publication.year));
    }
    xml.element_if("Volume", &[], &publication.volume);
    xml.element_if("Issue", &[], &publication.issue);
    let (start, end) = pages(&publication.pages);
    xml.element_if("StartPage", &[], start);
    xml.element_if("EndPage", &[], end);
    if let Some(doi) = doi(&publication.doi) {
        xml.element("DOI", &[], doi);
    }
    if !publication.authors.is_empty() {
        xml.open("Authors", &[]);
        for author in &publication.authors {
            xml.open("Author", &[]);
            xml.element_if("DisplayName", &[], &author.name);
            embedded_person(xml, &author.expert_id, &author.name);
            xml.close();
        }
        xml.close();
    }
    field_codes(xml, "Subject", &publication.field_codes);
    for keyword in &publication.keywords {
        xml.element_if(
            "Keyword",
            &[("xml:lang", language_or_vi(&publication.language))],
            keyword,
        );
    }
    xml.element_if(
        "Abstract",
        &[("xml:lang", language_or_vi(&publication.language))],
        &publication.r#abstract,
    );
    if !publication.project_id.is_empty() {
        xml.open("OriginatesFrom", &[])
            .open("Project", &id_attribute(&publication.project_id))
            .close()
            .close();
    }
    // The records describe papers; their files are not here.
    xml.element(
        "Access",
        &[("xmlns", ACCESS_RIGHTS)],
        "http://purl.org/coar/access_right/c_14cb",
    );
    xml.close();
}

fn org_unit(xml: &mut XmlWriter, id: &str, organization: &pb::Organization) {
    let mut attributes = vec![("xmlns", NAMESPACE)];
    attributes.extend(id_attribute(id));
    xml.open("OrgUnit", &attributes);
    let cerif_type = match pb::OrganizationType::try_from(organization.organization_type) {
        Ok(pb::OrganizationType::StateAgency) => Some("Government"),
        Ok(pb::OrganizationType::University) => Some("University"),
        Ok(pb::OrganizationType::ResearchInstitute) => Some("ResearchInstitute"),
        Ok(pb::OrganizationType::Enterprise) => Some("Company"),
        _ => None,
    };
    if let Some(cerif_type) = cerif_type {
        xml.element(
            "Type",
            &[("scheme", ORGANISATION_TYPES)],
            &format!("{ORGANISATION_TYPES}#{cerif_type}"),
        );
    }
    xml.element_if("Acronym", &[], &organization.abbreviation);
    xml.element_if("Name", &[("xml:lang", "vi")], &organization.name);
    if !organization.agency_code.trim().is_empty() {
        xml.element(
            "Identifier",
            &[(
                "type",
                &format!("{VOCABULARY}identifier-type#qd20-2020-agency-code"),
            )],
            organization.agency_code.trim(),
        );
    }
    if !organization.parent_id.is_empty() {
        xml.open("PartOf", &[])
            .open("OrgUnit", &id_attribute(&organization.parent_id))
            .close()
            .close();
    }
    let province: String = organization
        .province
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if !province.is_empty() && province.len() == organization.province.trim().len() {
        own_class(xml, "Classification", "province", &province);
    }
    for (relation, ids) in [
        ("predecessor", organization.predecessor_ids.as_slice()),
        (
            "successor",
            std::slice::from_ref(&organization.successor_id),
        ),
    ] {
        for related in ids.iter().filter(|id| !id.is_empty()) {
            let link_type = format!("{VOCABULARY}organization-relation#{relation}");
            xml.open("Link", &[("type", &link_type)])
                .open("OrgUnit", &id_attribute(related))
                .close()
                .close();
        }
    }
    xml.close();
}

/// "Nguyễn Xuân Hải": the family name first, as Vietnamese is written.
fn person_name(xml: &mut XmlWriter, full_name: &str) {
    let mut words = full_name.split_whitespace();
    let Some(family) = words.next() else {
        return;
    };
    let rest: Vec<&str> = words.collect();
    xml.open("PersonName", &[]);
    xml.element("FamilyNames", &[], family);
    if !rest.is_empty() {
        xml.element("FirstNames", &[], &rest.join(" "));
    }
    xml.close();
}

/// A person a record names: by id when the harvester can get that expert.
fn embedded_person(xml: &mut XmlWriter, expert_id: &str, name: &str) {
    xml.open("Person", &id_attribute(expert_id));
    person_name(xml, name);
    xml.close();
}

fn team_member(xml: &mut XmlWriter, role: &'static str, person: &pb::ProjectPerson) {
    xml.open(role, &[]);
    xml.element_if("DisplayName", &[], &person.name);
    embedded_person(xml, &person.expert_id, &person.name);
    xml.close();
}

/// An organization a record names: by id when the harvester can get it.
fn embedded_org_unit(xml: &mut XmlWriter, organization_id: &str, name: &str) {
    xml.open("OrgUnit", &id_attribute(organization_id));
    xml.element_if("Name", &[("xml:lang", "vi")], name);
    xml.close();
}

fn funded(xml: &mut XmlWriter, by: (&str, &str), funding_type: &str, name: &str, amount: u64) {
    let (by_name, by_id) = by;
    xml.open("Funded", &[]);
    if !by_name.trim().is_empty() || !by_id.is_empty() {
        xml.open("By", &[]);
        embedded_org_unit(xml, by_id, by_name);
        xml.close();
    }
    xml.open("As", &[]).open("Funding", &[]);
    xml.element(
        "Type",
        &[("xmlns", FUNDING_TYPES)],
        &format!("{FUNDING_TYPES}#{funding_type}"),
    );
    xml.element("Name", &[("xml:lang", "vi")], name);
    xml.element("Amount", &[("currency", "VND")], &amount.to_string());
    xml.close().close().close();
}

/// A class from one of the project's own schemes.
fn own_class(xml: &mut XmlWriter, element: &'static str, scheme: &str, term: &str) {
    let scheme = format!("{VOCABULARY}{scheme}");
    xml.element(element, &[("scheme", &scheme)], &format!("{scheme}#{term}"));
}

/// Field codes: 7 digits from Circular 24/2025, 5 from Decision 12/2008.
fn field_codes(xml: &mut XmlWriter, element: &'static str, codes: &[String]) {
    for code in codes {
        let code = code.trim();
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let scheme = match code.len() {
            7 => "field/tt24-2025",
            5 => "field/qd12-2008",
            _ => continue,
        };
        own_class(xml, element, scheme, code);
    }
}

/// The full ORCID URL the profile wants, from a bare or URL form.
fn orcid(value: &str) -> Option<String> {
    let bare = value
        .trim()
        .trim_start_matches("https://orcid.org/")
        .trim_start_matches("http://orcid.org/");
    if !bare.is_ascii() {
        return None;
    }
    let groups: Vec<&str> = bare.split('-').collect();
    let well_formed = groups.len() == 4
        && groups[..3]
            .iter()
            .all(|group| group.len() == 4 && group.bytes().all(|b| b.is_ascii_digit()))
        && groups[3].len() == 4
        && groups[3][..3].bytes().all(|b| b.is_ascii_digit())
        && groups[3].ends_with(|c: char| c.is_ascii_digit() || c == 'X');
    // The profile admits the ranges ORCID issues from.
    let third_first = groups.get(2).and_then(|group| group.chars().next());
    let issued_range = match (groups.first(), groups.get(1), third_first) {
        (Some(&"0000"), Some(&"0001"), Some(digit)) => digit >= '5',
        (Some(&"0000"), Some(&"0002"), Some(_)) => true,
        (Some(&"0000"), Some(&"0003"), Some(digit)) => digit <= '4',
        (Some(&"0009"), Some(second), Some(_)) => second.starts_with("000"),
        _ => false,
    };
    (well_formed && issued_range).then(|| format!("https://orcid.org/{bare}"))
}

fn researcher_id(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    matches!(parts.as_slice(), [letters, digits, year]
        if (1..=3).contains(&letters.len())
            && letters.bytes().all(|b| b.is_ascii_uppercase())
            && digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit())
            && year.len() == 4 && (year.starts_with("19") || year.starts_with("20"))
            && year.bytes().all(|b| b.is_ascii_digit()))
}

/// A bare DOI ("10.1234/x"), from a bare, `doi:` or resolver form.
fn doi(value: &str) -> Option<&str> {
    let bare = value
        .trim()
        .trim_start_matches("https://doi.org/")
        .trim_start_matches("http://doi.org/")
        .trim_start_matches("https://dx.doi.org/")
        .trim_start_matches("doi:");
    let (prefix, suffix) = bare.split_once('/')?;
    let mut registrant = prefix.strip_prefix("10.")?.split('.');
    let first = registrant.next()?;
    let prefix_ok = first.len() >= 4
        && first.bytes().all(|b| b.is_ascii_digit())
        && registrant.all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    (prefix_ok && !suffix.is_empty() && !suffix.contains(char::is_whitespace)).then_some(bare)
}

/// `YYYY-MM-DD`, a real day.
fn full_date(value: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    value.len() == 10 && time::Date::parse(value, format).is_ok()
}

/// "45-53" or "45–53" as (start, end); one page as (start, "").
fn pages(pages: &str) -> (&str, &str) {
    match pages.split_once(['-', '–']) {
        Some((start, end)) => (start.trim(), end.trim()),
        None => (pages.trim(), ""),
    }
}

fn language_or_vi(language: &str) -> &str {
    // xs:language: [a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*
    let language = language.trim();
    let mut parts = language.split('-');
    let primary_ok = parts.next().is_some_and(|part| {
        (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphabetic())
    });
    let rest_ok = parts.all(|part| {
        (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if primary_ok && rest_ok {
        language
    } else {
        "vi"
    }
}

/// The `id` attribute of an entity: the profile's ids hold at most 128
/// characters; a longer one is left out.
fn id_attribute(id: &str) -> Vec<(&'static str, &str)> {
    if id.is_empty() || id.chars().count() > 128 {
        Vec::new()
    } else {
        vec![("id", id)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_go_out_only_in_the_profiles_forms() {
        assert_eq!(
            orcid("0000-0002-1825-0097").as_deref(),
            Some("https://orcid.org/0000-0002-1825-0097")
        );
        assert_eq!(
            orcid("https://orcid.org/0009-0001-2345-678X").as_deref(),
            Some("https://orcid.org/0009-0001-2345-678X")
        );
        assert_eq!(orcid("0000-0000-1825-0097"), None);
        assert_eq!(orcid("not an orcid"), None);
        assert_eq!(
            doi("https://doi.org/10.1234/abc.2023.01"),
            Some("10.1234/abc.2023.01")
        );
        assert_eq!(doi("doi:10.12345.6/x"), Some("10.12345.6/x"));
        assert_eq!(doi("10.12/x"), None);
        assert_eq!(doi("10.1234/has space"), None);
        assert!(researcher_id("K-4321-2016"));
        assert!(!researcher_id("k-4321-2016"));
        assert!(full_date("2024-02-29"));
        assert!(!full_date("2023-02-29"));
        assert!(!full_date("2023-05"));
        assert_eq!(pages("45–53"), ("45", "53"));
        // Non-ASCII where digits belong: refused, never a panic.
        assert_eq!(orcid("0000-0002-1825-00é"), None);
        assert_eq!(orcid("0000-0002-1825-éé97"), None);
        assert_eq!(language_or_vi("en-US"), "en-US");
        for bad in ["Vietnamese", "en--us", "-", "", "tiếng"] {
            assert_eq!(language_or_vi(bad), "vi", "{bad}");
        }
        assert!(id_attribute(&"x".repeat(129)).is_empty());
    }
}
