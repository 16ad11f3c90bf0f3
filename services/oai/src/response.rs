//! The envelope of every response: `OAI-PMH` with the response date (UTC)
//! and the `request` element that echoes the base URL and, unless the
//! request was refused as badVerb or badArgument, its arguments.

use crate::error::{ErrorCode, OaiError};
use crate::xml::XmlWriter;

pub const OAI_NAMESPACE: &str = "http://www.openarchives.org/OAI/2.0/";
const SCHEMA_LOCATION: &str = "http://www.openarchives.org/OAI/2.0/ \
     http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd";

/// The media type of every response.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// Starts a response to a request with `arguments` (echoed as attributes),
/// at `base_url`, dated `response_date` (`YYYY-MM-DDThh:mm:ssZ`).
pub fn start(base_url: &str, response_date: &str, arguments: &[(String, String)]) -> XmlWriter {
    let mut xml = XmlWriter::document();
    xml.open(
        "OAI-PMH",
        &[
            ("xmlns", OAI_NAMESPACE),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", SCHEMA_LOCATION),
        ],
    );
    xml.element("responseDate", &[], response_date);
    let attributes: Vec<(&str, &str)> = arguments
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    xml.element("request", &attributes, base_url);
    xml
}

/// A whole error response. After badVerb or badArgument the request's
/// arguments are not echoed (the protocol, section 3.2).
pub fn errors(
    base_url: &str,
    response_date: &str,
    arguments: &[(String, String)],
    errors: &[OaiError],
) -> String {
    let refused = errors
        .iter()
        .any(|error| matches!(error.code, ErrorCode::BadVerb | ErrorCode::BadArgument));
    let echoed: &[(String, String)] = if refused { &[] } else { arguments };
    let mut xml = start(base_url, response_date, echoed);
    for error in errors {
        xml.element("error", &[("code", error.code.as_str())], &error.message);
    }
    xml.finish()
}

/// `YYYY-MM-DDThh:mm:ssZ` for `moment`.
pub fn utc_datestamp(moment: time::OffsetDateTime) -> String {
    let moment = moment.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        moment.year(),
        moment.month() as u8,
        moment.day(),
        moment.hour(),
        moment.minute(),
        moment.second()
    )
}
