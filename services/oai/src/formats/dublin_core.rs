//! `oai_dc`: simple Dublin Core, for every record. Each kind's fields go to
//! the fifteen elements they fit; what a record does not say is left out.

use lienthong_records::AnyRecord;
use lienthong_records::labels;

use crate::xml::XmlWriter;

pub const PREFIX: &str = "oai_dc";
pub const NAMESPACE: &str = "http://www.openarchives.org/OAI/2.0/oai_dc/";
pub const SCHEMA: &str = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd";

/// Writes `record` as `<oai_dc:dc>`.
pub fn write(xml: &mut XmlWriter, record: &AnyRecord) {
    xml.open(
        "oai_dc:dc",
        &[
            ("xmlns:oai_dc", NAMESPACE),
            ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
            ("xsi:schemaLocation", &format!("{NAMESPACE} {SCHEMA}")),
        ],
    );
    let mut dc = Dc(xml);
    match record {
        AnyRecord::Expert(expert) => {
            dc.put("dc:title", &expert.full_name);
            dc.put("dc:type", "Person");
            dc.put(
                "dc:description",
                &labels::title_and_degree(expert.academic_title, expert.degree),
            );
            dc.put("dc:description", &expert.position);
            dc.put("dc:subject", &expert.specialization);
            dc.all("dc:subject", &expert.keywords);
            dc.all("dc:subject", &expert.field_codes);
            dc.put("dc:relation", &expert.organization_name);
            if let Some(ids) = &expert.identifiers
                && !ids.orcid.is_empty()
            {
                dc.put("dc:identifier", &format!("https://orcid.org/{}", ids.orcid));
            }
        }
        AnyRecord::Project(project) => {
            dc.put("dc:title", &project.title);
            dc.put("dc:type", "Project");
            if let Some(lead) = &project.lead {
                dc.put("dc:creator", &lead.name);
            }
            for member in &project.members {
                dc.put("dc:contributor", &member.name);
            }
            dc.put("dc:publisher", &project.host_organization_name);
            dc.put("dc:contributor", &project.managing_agency);
            dc.all("dc:subject", &project.keywords);
            dc.all("dc:subject", &project.field_codes);
            dc.put("dc:description", &project.objectives);
            dc.put("dc:description", &project.summary);
            dc.put("dc:description", labels::project_status(project.status));
            let start = first_of(&project.actual_start, &project.planned_start);
            let end = first_of(&project.actual_end, &project.planned_end);
            dc.put("dc:date", start);
            dc.put("dc:date", end);
            dc.put("dc:identifier", &project.code);
        }
        AnyRecord::Publication(publication) => {
            dc.put("dc:title", &publication.title);
            dc.put("dc:type", "Text");
            for author in &publication.authors {
                dc.put("dc:creator", &author.name);
            }
            dc.all("dc:subject", &publication.keywords);
            dc.all("dc:subject", &publication.field_codes);
            dc.put("dc:description", &publication.r#abstract);
            if publication.year > 0 {
                dc.put("dc:date", &publication.year.to_string());
            }
            dc.put("dc:source", &venue(publication));
            if !publication.doi.is_empty() {
                dc.put(
                    "dc:identifier",
                    &format!("https://doi.org/{}", publication.doi),
                );
            }
            dc.put("dc:language", &publication.language);
            dc.put("dc:relation", &publication.project_id);
        }
        AnyRecord::Organization(organization) => {
            dc.put("dc:title", &organization.name);
            dc.put("dc:title", &organization.abbreviation);
            dc.put("dc:type", "Organization");
            dc.put("dc:identifier", &organization.agency_code);
            dc.put("dc:coverage", &organization.province);
            dc.put("dc:relation", &organization.parent_id);
        }
    }
    dc.put("dc:identifier", record.id());
    xml.close();
}

/// "Tạp chí X, 12(3), 45-67".
fn venue(publication: &lienthong_proto::v1::Publication) -> String {
    let mut text = publication.venue.trim().to_owned();
    if !publication.volume.is_empty() {
        text.push_str(&format!(", {}", publication.volume));
        if !publication.issue.is_empty() {
            text.push_str(&format!("({})", publication.issue));
        }
    }
    if !publication.pages.is_empty() {
        text.push_str(&format!(", {}", publication.pages));
    }
    text
}

fn first_of<'a>(preferred: &'a str, otherwise: &'a str) -> &'a str {
    if preferred.is_empty() {
        otherwise
    } else {
        preferred
    }
}

struct Dc<'a>(&'a mut XmlWriter);

impl Dc<'_> {
    fn put(&mut self, element: &'static str, text: &str) {
        self.0.element_if(element, &[], text);
    }

    fn all(&mut self, element: &'static str, texts: &[String]) {
        for text in texts {
            self.put(element, text);
        }
    }
}
