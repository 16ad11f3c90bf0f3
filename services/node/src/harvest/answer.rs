//! Answers to the six verbs for one admitted harvester, from the store,
//! through the disclosure decision.

use lienthong_oai::formats::{self, Format};
use lienthong_oai::request::ListSelection;
use lienthong_oai::xml::XmlWriter;
use lienthong_oai::{ErrorCode, OaiError, Request, response, sets};
use lienthong_records::AnyRecord;
use lienthong_store::{Audience, HarvestEntry, HarvestScope, StoreError};

use super::Endpoint;
use super::resumption::ListState;
use crate::disclosure::Disclosure;

/// How many slices of the change log one request reads, at most, once it
/// has a record, before it answers with what it found.
const MAX_SLICES_PER_REQUEST: usize = 50;

/// One request's answer: the document, and the ids of the records in it.
pub struct Answer {
    pub xml: String,
    pub record_ids: Vec<String>,
}

/// What the endpoint knows of the harvester it answers.
pub struct Harvest<'a> {
    pub endpoint: &'a Endpoint,
    pub disclosure: &'a Disclosure,
    pub audience: Audience,
    /// "public" or the harvester's identity: what tokens are bound to.
    pub who: String,
}

impl Harvest<'_> {
    pub async fn answer(&self, arguments: &[(String, String)]) -> Result<Answer, StoreError> {
        let now = response::utc_datestamp(time::OffsetDateTime::now_utc());
        let base_url = &self.endpoint.base_url;
        let request = match lienthong_oai::request::parse(arguments) {
            Ok(request) => request,
            Err(errors) => return Ok(error_answer(base_url, &now, arguments, &errors)),
        };
        let echoed = valid_echo(arguments);
        let mut xml = response::start(base_url, &now, &echoed);
        let result = match request {
            Request::Identify => self.identify(&mut xml).await,
            Request::ListMetadataFormats { identifier } => {
                self.list_metadata_formats(&mut xml, identifier.as_deref())
                    .await
            }
            Request::ListSets { resumption_token } => {
                self.list_sets(&mut xml, resumption_token.is_some())
            }
            Request::GetRecord {
                identifier,
                metadata_prefix,
            } => {
                self.get_record(&mut xml, &identifier, &metadata_prefix)
                    .await
            }
            Request::List { records, selection } => self.list(&mut xml, records, selection).await,
        };
        match result {
            Ok(Ok(record_ids)) => Ok(Answer {
                xml: xml.finish(),
                record_ids,
            }),
            Ok(Err(error)) => Ok(error_answer(base_url, &now, &echoed, &[error])),
            Err(error) => Err(error),
        }
    }

    async fn identify(
        &self,
        xml: &mut XmlWriter,
    ) -> Result<Result<Vec<String>, OaiError>, StoreError> {
        let endpoint = self.endpoint;
        let earliest = endpoint
            .store
            .earliest_datestamp()
            .await?
            .unwrap_or_else(|| response::utc_datestamp(time::OffsetDateTime::now_utc()));
        xml.open("Identify", &[]);
        xml.element("repositoryName", &[], &endpoint.repository_name);
        xml.element("baseURL", &[], &endpoint.base_url);
        xml.element("protocolVersion", &[], "2.0");
        xml.element("adminEmail", &[], &endpoint.admin_email);
        xml.element("earliestDatestamp", &[], &earliest);
        xml.element("deletedRecord", &[], "persistent");
        xml.element("granularity", &[], "YYYY-MM-DDThh:mm:ssZ");
        xml.open("description", &[]).open(
            "oai-identifier",
            &[
                (
                    "xmlns",
                    "http://www.openarchives.org/OAI/2.0/oai-identifier",
                ),
                (
                    "xsi:schemaLocation",
                    "http://www.openarchives.org/OAI/2.0/oai-identifier \
                     http://www.openarchives.org/OAI/2.0/oai-identifier.xsd",
                ),
            ],
        );
        xml.element("scheme", &[], "oai");
        xml.element("repositoryIdentifier", &[], &endpoint.repository_identifier);
        xml.element("delimiter", &[], ":");
        xml.element(
            "sampleIdentifier",
            &[],
            &endpoint.oai_identifier(&format!("{}:project:P0000001", endpoint.node_id)),
        );
        xml.close().close();
        xml.open("description", &[]).open(
            "Service",
            &[
                ("xmlns", formats::cerif::NAMESPACE),
                (
                    "id",
                    &format!("Services/{}", endpoint.repository_identifier),
                ),
            ],
        );
        xml.element(
            "Compatibility",
            &[(
                "xmlns",
                "https://www.openaire.eu/cerif-profile/vocab/OpenAIRE_Service_Compatibility",
            )],
            "https://www.openaire.eu/cerif-profile/vocab/OpenAIRE_Service_Compatibility#1.2",
        );
        xml.element("Acronym", &[], &endpoint.repository_identifier);
        xml.element("Name", &[("xml:lang", "vi")], &endpoint.repository_name);
        xml.element(
            "Description",
            &[("xml:lang", "vi")],
            "Nhà khoa học, nhiệm vụ KH&CN, công bố khoa học và tổ chức, theo Hướng dẫn \
             OpenAIRE cho CRIS phiên bản 1.2.",
        );
        xml.element("OAIPMHBaseURL", &[], &endpoint.base_url);
        xml.close().close();
        xml.close();
        Ok(Ok(Vec::new()))
    }

    async fn list_metadata_formats(
        &self,
        xml: &mut XmlWriter,
        identifier: Option<&str>,
    ) -> Result<Result<Vec<String>, OaiError>, StoreError> {
        if let Some(identifier) = identifier
            && self.find(identifier).await?.is_none()
        {
            return Ok(Err(no_such_identifier(identifier)));
        }
        xml.open("ListMetadataFormats", &[]);
        for (_, prefix, schema, namespace) in formats::ALL {
            xml.open("metadataFormat", &[]);
            xml.element("metadataPrefix", &[], prefix);
            xml.element("schema", &[], schema);
            xml.element("metadataNamespace", &[], namespace);
            xml.close();
        }
        xml.close();
        Ok(Ok(Vec::new()))
    }

    fn list_sets(
        &self,
        xml: &mut XmlWriter,
        resumed: bool,
    ) -> Result<Result<Vec<String>, OaiError>, StoreError> {
        if resumed {
            return Ok(Err(OaiError::new(
                ErrorCode::BadResumptionToken,
                "ListSets answers in one page and issues no resumption token",
            )));
        }
        xml.open("ListSets", &[]);
        for (spec, name) in sets::all(&self.endpoint.provinces) {
            xml.open("set", &[]);
            xml.element("setSpec", &[], &spec);
            xml.element("setName", &[], &name);
            xml.close();
        }
        xml.close();
        Ok(Ok(Vec::new()))
    }

    async fn get_record(
        &self,
        xml: &mut XmlWriter,
        identifier: &str,
        metadata_prefix: &str,
    ) -> Result<Result<Vec<String>, OaiError>, StoreError> {
        let Some(format) = Format::from_prefix(metadata_prefix) else {
            return Ok(Err(cannot_disseminate(metadata_prefix)));
        };
        let Some(entry) = self.find(identifier).await? else {
            return Ok(Err(no_such_identifier(identifier)));
        };
        let mut entries = vec![entry];
        self.redact(&mut entries).await?;
        xml.open("GetRecord", &[]);
        let ids = self.write_records(xml, &entries, Some(format));
        xml.close();
        Ok(Ok(ids))
    }

    async fn list(
        &self,
        xml: &mut XmlWriter,
        records: bool,
        selection: ListSelection,
    ) -> Result<Result<Vec<String>, OaiError>, StoreError> {
        let endpoint = self.endpoint;
        let (state, resumed) = match selection {
            ListSelection::Resume { token } => {
                match ListState::open(
                    endpoint.store.token_seal(),
                    &token,
                    endpoint.token_lifetime_seconds,
                    &self.who,
                ) {
                    Ok(state) if state.records == records => (state, true),
                    Ok(_) => {
                        return Ok(Err(OaiError::new(
                            ErrorCode::BadResumptionToken,
                            "the resumption token belongs to the other list verb \
                             (ListRecords or ListIdentifiers)",
                        )));
                    }
                    Err(reason) => {
                        return Ok(Err(OaiError::new(ErrorCode::BadResumptionToken, reason)));
                    }
                }
            }
            ListSelection::Start {
                metadata_prefix,
                set,
                from,
                until,
            } => {
                if Format::from_prefix(&metadata_prefix).is_none() {
                    return Ok(Err(cannot_disseminate(&metadata_prefix)));
                }
                if let Some(set) = &set
                    && sets::parse(set, &endpoint.provinces).is_none()
                {
                    return Ok(Err(OaiError::new(
                        ErrorCode::BadArgument,
                        format!("there is no set {set:?}; ListSets names the sets"),
                    )));
                }
                let from = from.map(|from| from.normalized);
                let until = until.map(|until| until.normalized);
                let (after, last) = endpoint
                    .store
                    .harvest_range(from.as_deref(), until.as_deref())
                    .await?;
                let mut state = ListState {
                    records,
                    who: self.who.clone(),
                    metadata_prefix,
                    set,
                    from,
                    until,
                    after_seq: after,
                    after_doc: 0,
                    last,
                    cursor: 0,
                    complete_list_size: None,
                    peek: None,
                };
                let Some(scope) = self.list_scope(&state) else {
                    return Ok(Err(no_records()));
                };
                if after >= last {
                    return Ok(Err(no_records()));
                }
                let count = endpoint.store.harvest_count(&scope, after, last).await?;
                if count == 0 {
                    return Ok(Err(no_records()));
                }
                state.complete_list_size = Some(count);
                (state, false)
            }
        };
        let format = Format::from_prefix(&state.metadata_prefix);
        let Some(scope) = self.list_scope(&state) else {
            return Ok(Err(no_records()));
        };
        // One more than a page is read, to know whether another follows.
        // Rows the store could not leave out in SQL (kinds out of scope, the
        // exact datestamps at the range's edges) are skipped here, slice by
        // slice, until a record is found or the range ends; then up to
        // MAX_SLICES_PER_REQUEST slices for the rest.
        let mut entries: Vec<HarvestEntry> = Vec::new();
        let mut position = state.after();
        let mut exhausted = false;
        let page_size = endpoint.page_size as usize;
        let mut slices = 0;
        loop {
            slices += 1;
            let wanted = (page_size + 1 - entries.len()) as u32;
            let page = endpoint
                .store
                .harvest_page(&scope, position, state.last, wanted)
                .await?;
            for entry in page.entries {
                position = entry.position;
                let in_dates = state
                    .from
                    .as_ref()
                    .is_none_or(|from| entry.datestamp >= *from)
                    && state
                        .until
                        .as_ref()
                        .is_none_or(|until| entry.datestamp <= *until);
                if in_dates {
                    entries.push(entry);
                }
            }
            match page.next {
                Some(next) => position = position.max(next),
                None => exhausted = true,
            }
            let enough = entries.len() > page_size
                || (slices >= MAX_SLICES_PER_REQUEST && !entries.is_empty());
            if exhausted || enough {
                break;
            }
        }
        let mut peek = None;
        let more = if entries.len() > page_size {
            peek = entries.pop().map(|entry| entry.id);
            entries.truncate(page_size);
            if let Some(last) = entries.last() {
                position = last.position;
            }
            true
        } else {
            !exhausted
        };
        // The record that showed a page would follow changed since (it moved
        // past the list's range): it is delivered as it is now, so that the
        // page is not empty.
        if entries.is_empty()
            && resumed
            && let Some(id) = &state.peek
            && let Some(entry) = endpoint.store.harvest_record(&scope, id).await?
        {
            entries.push(entry);
        }
        if entries.is_empty() && !more {
            return Ok(Err(no_records()));
        }
        if records {
            self.redact(&mut entries).await?;
        }
        let verb = if records {
            "ListRecords"
        } else {
            "ListIdentifiers"
        };
        xml.open(verb, &[]);
        let ids = self.write_records(xml, &entries, if records { format } else { None });
        let delivered = state.cursor + entries.len() as u64;
        let size = state.complete_list_size.map(|size| size.max(delivered));
        let size_text = size.map(|size| size.to_string());
        let cursor_text = state.cursor.to_string();
        let mut attributes: Vec<(&str, &str)> = vec![("cursor", &cursor_text)];
        if let Some(size) = &size_text {
            attributes.push(("completeListSize", size));
        }
        if more {
            let mut next = state.clone();
            next.after_seq = position.seq;
            next.after_doc = position.doc;
            next.cursor = delivered;
            next.peek = peek;
            let token = next.seal(endpoint.store.token_seal());
            let expires = time::OffsetDateTime::now_utc()
                + time::Duration::seconds(endpoint.token_lifetime_seconds as i64);
            let expires = response::utc_datestamp(expires);
            attributes.push(("expirationDate", &expires));
            xml.element("resumptionToken", &attributes, &token);
        } else if resumed {
            // The last page of a list that came in pages.
            xml.element("resumptionToken", &attributes, "");
        }
        xml.close();
        Ok(Ok(ids))
    }

    /// The scope of a list; `None` when its set can hold nothing for this
    /// harvester.
    fn list_scope(&self, state: &ListState) -> Option<HarvestScope> {
        let mut scope = self.disclosure.harvest_scope(self.audience);
        let Some(set) = &state.set else {
            return Some(scope);
        };
        match sets::parse(set, &self.endpoint.provinces)? {
            sets::SetFilter::Kind(kind) => {
                let kind = kind?;
                scope.kinds.retain(|granted| *granted == kind);
                scope.mirror_kinds.retain(|granted| *granted == kind);
            }
            sets::SetFilter::Origin(origin) => scope.origin = Some(origin),
            sets::SetFilter::Field(field) => scope.field = Some(field),
        }
        Some(scope)
    }

    /// The entry an OAI identifier names, as this harvester may see it.
    async fn find(&self, identifier: &str) -> Result<Option<HarvestEntry>, StoreError> {
        let Some(id) = self.endpoint.record_id(identifier) else {
            return Ok(None);
        };
        let scope = self.disclosure.harvest_scope(self.audience);
        self.endpoint.store.harvest_record(&scope, id).await
    }

    async fn redact(&self, entries: &mut [HarvestEntry]) -> Result<(), StoreError> {
        let scope = self.disclosure.harvest_scope(self.audience);
        let records: Vec<&mut AnyRecord> = entries
            .iter_mut()
            .filter_map(|entry| entry.record.as_mut())
            .collect();
        self.disclosure
            .redact_harvested(&self.endpoint.store, &scope, records)
            .await
    }

    /// Writes each entry as a `record` (with `format`) or a `header`
    /// (without); returns the ids of live records.
    fn write_records(
        &self,
        xml: &mut XmlWriter,
        entries: &[HarvestEntry],
        format: Option<Format>,
    ) -> Vec<String> {
        let mut ids = Vec::new();
        for entry in entries {
            if format.is_some() {
                xml.open("record", &[]);
            }
            let deleted = entry.record.is_none();
            let status: &[(&str, &str)] = if deleted {
                &[("status", "deleted")]
            } else {
                &[]
            };
            xml.open("header", status);
            xml.element("identifier", &[], &self.endpoint.oai_identifier(&entry.id));
            xml.element("datestamp", &[], &entry.datestamp);
            let record_sets = sets::of_record(
                entry.kind,
                &entry.origin,
                entry.record.as_ref(),
                &self.endpoint.provinces,
            );
            for set in record_sets {
                xml.element("setSpec", &[], &set);
            }
            xml.close();
            if let (Some(format), Some(record)) = (format, &entry.record) {
                xml.open("metadata", &[]);
                format.write(xml, record);
                xml.close();
            }
            if format.is_some() {
                xml.close();
            }
            if !deleted {
                ids.push(entry.id.clone());
            }
        }
        ids
    }
}

fn error_answer(
    base_url: &str,
    now: &str,
    arguments: &[(String, String)],
    errors: &[OaiError],
) -> Answer {
    Answer {
        xml: response::errors(base_url, now, arguments, errors),
        record_ids: Vec::new(),
    }
}

/// The arguments a `request` element may echo: those whose values have the
/// form the protocol's schema gives them (a value that does not is left
/// out, so that the answer stays valid).
fn valid_echo(arguments: &[(String, String)]) -> Vec<(String, String)> {
    let token_char = |c: char| c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c);
    arguments
        .iter()
        .filter(|(key, value)| match key.as_str() {
            "verb" | "resumptionToken" => true,
            "metadataPrefix" => value.chars().all(token_char),
            "set" => value
                .split(':')
                .all(|part| !part.is_empty() && part.chars().all(token_char)),
            "identifier" => !value.contains(char::is_whitespace) && value.is_ascii(),
            "from" | "until" => value.len() == 10 || value.len() == 20,
            _ => false,
        })
        .cloned()
        .collect()
}

fn cannot_disseminate(prefix: &str) -> OaiError {
    let known: Vec<&str> = formats::ALL.iter().map(|(_, prefix, ..)| *prefix).collect();
    OaiError::new(
        ErrorCode::CannotDisseminateFormat,
        format!(
            "metadataPrefix {prefix:?} is not offered; use one of {}",
            known.join(", ")
        ),
    )
}

fn no_such_identifier(identifier: &str) -> OaiError {
    OaiError::new(
        ErrorCode::IdDoesNotExist,
        format!("no record has the identifier {identifier:?} here"),
    )
}

fn no_records() -> OaiError {
    OaiError::new(
        ErrorCode::NoRecordsMatch,
        "no records match the arguments given",
    )
}
