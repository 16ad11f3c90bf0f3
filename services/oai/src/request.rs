//! Reading an OAI-PMH request: the verb and its arguments, checked as the
//! protocol says (section 3.1 and 4), into a [`Request`] or the errors to
//! answer with.

use std::collections::BTreeMap;

use crate::error::{ErrorCode, OaiError};

/// The six verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Identify,
    ListMetadataFormats,
    ListSets,
    GetRecord,
    ListIdentifiers,
    ListRecords,
}

impl Verb {
    pub const ALL: [Verb; 6] = [
        Verb::Identify,
        Verb::ListMetadataFormats,
        Verb::ListSets,
        Verb::GetRecord,
        Verb::ListIdentifiers,
        Verb::ListRecords,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Identify => "Identify",
            Verb::ListMetadataFormats => "ListMetadataFormats",
            Verb::ListSets => "ListSets",
            Verb::GetRecord => "GetRecord",
            Verb::ListIdentifiers => "ListIdentifiers",
            Verb::ListRecords => "ListRecords",
        }
    }

    /// (required, optional, exclusive) arguments.
    fn arguments(
        self,
    ) -> (
        &'static [&'static str],
        &'static [&'static str],
        Option<&'static str>,
    ) {
        match self {
            Verb::Identify => (&[], &[], None),
            Verb::ListMetadataFormats => (&[], &["identifier"], None),
            Verb::ListSets => (&[], &[], Some("resumptionToken")),
            Verb::GetRecord => (&["identifier", "metadataPrefix"], &[], None),
            Verb::ListIdentifiers | Verb::ListRecords => (
                &["metadataPrefix"],
                &["from", "until", "set"],
                Some("resumptionToken"),
            ),
        }
    }
}

/// A datestamp argument, to the second, in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datestamp {
    /// `YYYY-MM-DDThh:mm:ssZ`; a day stands for its first second in `from`
    /// and its last in `until`.
    pub normalized: String,
    /// Whether it was given as a day (`YYYY-MM-DD`).
    pub day: bool,
}

/// What a list (ListIdentifiers, ListRecords) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListSelection {
    /// A first request.
    Start {
        metadata_prefix: String,
        set: Option<String>,
        from: Option<Datestamp>,
        until: Option<Datestamp>,
    },
    /// The next page of a list.
    Resume { token: String },
}

/// A request whose arguments are as the verb wants them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Identify,
    ListMetadataFormats {
        identifier: Option<String>,
    },
    ListSets {
        resumption_token: Option<String>,
    },
    GetRecord {
        identifier: String,
        metadata_prefix: String,
    },
    List {
        records: bool,
        selection: ListSelection,
    },
}

/// The request's arguments, as sent (for the response's `request` element).
pub type Arguments = Vec<(String, String)>;

/// Reads the arguments of a GET query string or a POST form body.
pub fn parse(arguments: &[(String, String)]) -> Result<Request, Vec<OaiError>> {
    let verbs: Vec<&str> = arguments
        .iter()
        .filter(|(key, _)| key == "verb")
        .map(|(_, value)| value.as_str())
        .collect();
    let verb = match verbs.as_slice() {
        [] => {
            return Err(vec![OaiError::new(
                ErrorCode::BadVerb,
                "the verb argument is missing",
            )]);
        }
        [one] => match Verb::ALL.iter().find(|verb| verb.as_str() == *one) {
            Some(verb) => *verb,
            None => {
                return Err(vec![OaiError::new(
                    ErrorCode::BadVerb,
                    format!(
                        "{one:?} is not a verb; use Identify, ListMetadataFormats, ListSets, \
                         GetRecord, ListIdentifiers or ListRecords"
                    ),
                )]);
            }
        },
        _ => {
            return Err(vec![OaiError::new(
                ErrorCode::BadVerb,
                "the verb argument is repeated; send it once",
            )]);
        }
    };
    let mut values: BTreeMap<&str, &str> = BTreeMap::new();
    let mut errors = Vec::new();
    let (required, optional, exclusive) = verb.arguments();
    for (key, value) in arguments.iter().filter(|(key, _)| key != "verb") {
        let known = required.contains(&key.as_str())
            || optional.contains(&key.as_str())
            || exclusive == Some(key.as_str());
        if !known {
            errors.push(OaiError::new(
                ErrorCode::BadArgument,
                format!("{} takes no argument {key:?}", verb.as_str()),
            ));
        } else if values.insert(key.as_str(), value.as_str()).is_some() {
            errors.push(OaiError::new(
                ErrorCode::BadArgument,
                format!("the argument {key} is repeated; send it once"),
            ));
        }
    }
    if let Some(exclusive) = exclusive
        && values.contains_key(exclusive)
    {
        if values.len() > 1 {
            errors.push(OaiError::new(
                ErrorCode::BadArgument,
                format!("{exclusive} is exclusive: send it with the verb alone"),
            ));
        }
    } else {
        for key in required {
            if !values.contains_key(key) {
                errors.push(OaiError::new(
                    ErrorCode::BadArgument,
                    format!("{} needs the argument {key}", verb.as_str()),
                ));
            }
        }
    }
    for (key, value) in &values {
        if value.is_empty() {
            errors.push(OaiError::new(
                ErrorCode::BadArgument,
                format!("the argument {key} is empty"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let get = |key: &str| values.get(key).map(|value| (*value).to_owned());
    let request = match verb {
        Verb::Identify => Request::Identify,
        Verb::ListMetadataFormats => Request::ListMetadataFormats {
            identifier: get("identifier"),
        },
        Verb::ListSets => Request::ListSets {
            resumption_token: get("resumptionToken"),
        },
        Verb::GetRecord => Request::GetRecord {
            identifier: get("identifier").unwrap_or_default(),
            metadata_prefix: get("metadataPrefix").unwrap_or_default(),
        },
        Verb::ListIdentifiers | Verb::ListRecords => {
            let selection = match get("resumptionToken") {
                Some(token) => ListSelection::Resume { token },
                None => {
                    let from = values
                        .get("from")
                        .map(|from| datestamp("from", from, false));
                    let until = values
                        .get("until")
                        .map(|until| datestamp("until", until, true));
                    let from = from.transpose().map_err(|error| vec![error])?;
                    let until = until.transpose().map_err(|error| vec![error])?;
                    if let (Some(from), Some(until)) = (&from, &until) {
                        if from.day != until.day {
                            return Err(vec![OaiError::new(
                                ErrorCode::BadArgument,
                                "from and until must have the same granularity \
                                 (both YYYY-MM-DD or both YYYY-MM-DDThh:mm:ssZ)",
                            )]);
                        }
                        if from.normalized > until.normalized {
                            return Err(vec![OaiError::new(
                                ErrorCode::BadArgument,
                                "from is later than until",
                            )]);
                        }
                    }
                    ListSelection::Start {
                        metadata_prefix: get("metadataPrefix").unwrap_or_default(),
                        set: get("set"),
                        from,
                        until,
                    }
                }
            };
            Request::List {
                records: verb == Verb::ListRecords,
                selection,
            }
        }
    };
    Ok(request)
}

/// Reads a `from` or `until` value: `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ`.
fn datestamp(key: &str, value: &str, until: bool) -> Result<Datestamp, OaiError> {
    let bad = || {
        OaiError::new(
            ErrorCode::BadArgument,
            format!(
                "{key}={value:?} is not a date: write YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)"
            ),
        )
    };
    let day_format = time::macros::format_description!("[year]-[month]-[day]");
    let second_format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    if value.len() == 10 {
        let day = time::Date::parse(value, day_format).map_err(|_| bad())?;
        if day.year() < 1 {
            return Err(bad());
        }
        let time = if until { "23:59:59" } else { "00:00:00" };
        return Ok(Datestamp {
            normalized: format!("{}T{time}Z", format_day(day)),
            day: true,
        });
    }
    if value.len() == 20 {
        let moment = time::PrimitiveDateTime::parse(value, second_format).map_err(|_| bad())?;
        if moment.year() < 1 {
            return Err(bad());
        }
        return Ok(Datestamp {
            normalized: format!(
                "{}T{:02}:{:02}:{:02}Z",
                format_day(moment.date()),
                moment.hour(),
                moment.minute(),
                moment.second()
            ),
            day: false,
        });
    }
    Err(bad())
}

fn format_day(day: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        day.month() as u8,
        day.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn codes(pairs: &[(&str, &str)]) -> Vec<ErrorCode> {
        parse(&args(pairs))
            .expect_err("an error")
            .into_iter()
            .map(|error| error.code)
            .collect()
    }

    #[test]
    fn a_missing_unknown_or_repeated_verb_is_bad_verb() {
        assert_eq!(codes(&[]), [ErrorCode::BadVerb]);
        assert_eq!(codes(&[("verb", "ListThings")]), [ErrorCode::BadVerb]);
        assert_eq!(
            codes(&[("verb", "Identify"), ("verb", "Identify")]),
            [ErrorCode::BadVerb]
        );
    }

    #[test]
    fn unknown_missing_repeated_and_empty_arguments_are_bad_arguments() {
        assert_eq!(
            codes(&[("verb", "Identify"), ("x", "1")]),
            [ErrorCode::BadArgument]
        );
        assert_eq!(
            codes(&[("verb", "GetRecord"), ("identifier", "a")]),
            [ErrorCode::BadArgument]
        );
        assert_eq!(
            codes(&[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("metadataPrefix", "oai_dc")
            ]),
            [ErrorCode::BadArgument]
        );
        assert_eq!(
            codes(&[("verb", "ListRecords"), ("metadataPrefix", "")]),
            [ErrorCode::BadArgument]
        );
    }

    #[test]
    fn a_resumption_token_goes_alone() {
        assert_eq!(
            codes(&[
                ("verb", "ListRecords"),
                ("resumptionToken", "t"),
                ("metadataPrefix", "oai_dc")
            ]),
            [ErrorCode::BadArgument]
        );
        assert_eq!(
            parse(&args(&[
                ("verb", "ListIdentifiers"),
                ("resumptionToken", "t")
            ])),
            Ok(Request::List {
                records: false,
                selection: ListSelection::Resume { token: "t".into() }
            })
        );
    }

    #[test]
    fn dates_are_days_or_seconds_in_utc_of_one_granularity() {
        let request = parse(&args(&[
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2026-02-28"),
            ("until", "2026-03-01"),
        ]))
        .expect("valid");
        let Request::List {
            selection: ListSelection::Start { from, until, .. },
            ..
        } = request
        else {
            panic!("a list");
        };
        assert_eq!(from.expect("from").normalized, "2026-02-28T00:00:00Z");
        assert_eq!(until.expect("until").normalized, "2026-03-01T23:59:59Z");
        for bad in [
            "2026-02-30",
            "2026-1-01",
            "2026-01-01T10:00:00",
            "2026-01-01T10:00:00+07:00",
            "yesterday",
        ] {
            assert_eq!(
                codes(&[
                    ("verb", "ListRecords"),
                    ("metadataPrefix", "oai_dc"),
                    ("from", bad)
                ]),
                [ErrorCode::BadArgument],
                "{bad}"
            );
        }
        assert_eq!(
            codes(&[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("from", "2026-01-01"),
                ("until", "2026-01-02T00:00:00Z")
            ]),
            [ErrorCode::BadArgument]
        );
        assert_eq!(
            codes(&[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("from", "2026-01-02"),
                ("until", "2026-01-01")
            ]),
            [ErrorCode::BadArgument]
        );
    }
}
