//! What the search index holds for one record, and the two tokenizers that
//! turn its text into terms: folded words (case, diacritics and đ removed;
//! what matching compares) and accent keys (diacritics kept; what the
//! boost for the query's own spelling compares).

use lienthong_records::AnyRecord;
use lienthong_records::folding::{accent_keys, normalized, tokens};
use lienthong_records::search_document::SearchDocument;
use tantivy::schema::{
    BytesOptions, FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing,
    TextOptions,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer, TokenizerManager};
use tantivy::{IndexSettings, IndexSortByField, Order, TantivyDocument, Term};

/// Version of what the index holds and how it is tokenized. An index written
/// by another version is rebuilt from the database when the store opens.
pub const INDEX_FORMAT: u32 = 5;

const FOLDED: &str = "lienthong_folded";
const ACCENTED: &str = "lienthong_accented";

/// Whose a document is: the node's own record, or a mirror of another
/// node's, public at its origin or not. Mirrors carry a facet term of their
/// scope; the node's own records carry none, so a search that leaves mirrors
/// out costs nothing on a node without them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    Local,
    Mirror,
    PublicMirror,
}

impl Scope {
    /// The facet term of a mirror's scope.
    pub fn facet(self) -> Option<&'static str> {
        match self {
            Scope::Local => None,
            Scope::Mirror => Some("scope:mirror"),
            Scope::PublicMirror => Some("scope:public-mirror"),
        }
    }
}

/// The facet term of the node a mirror came from.
pub(crate) fn origin_facet(origin: &str) -> String {
    format!("origin:{origin}")
}

/// The fields of the index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields {
    /// Record kind code.
    pub kind: Field,
    /// The record's internal position in the database: the key index
    /// entries are replaced by, and the tie-break of ranking.
    pub doc: Field,
    /// Birth, start or publication year; 0 when unknown.
    pub year: Field,
    /// The folded name joined by spaces, as one term: the exact-name tier.
    pub name_key: Field,
    /// Folded words of the name, with positions.
    pub name: Field,
    /// Folded words of specialization and keywords.
    pub subject: Field,
    /// Folded words of organizations, venues and people.
    pub affiliation: Field,
    /// Folded words of every text field, the name included, with positions.
    pub text: Field,
    /// Accent keys of the name.
    pub name_accent: Field,
    /// Accent keys of every text field.
    pub text_accent: Field,
    /// Filter values (`facet` terms).
    pub facet: Field,
    /// The record as stored (protobuf), returned with each hit.
    pub body: Field,
}

impl Fields {
    pub fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let folded = |positions: bool| {
            let option = if positions {
                IndexRecordOption::WithFreqsAndPositions
            } else {
                IndexRecordOption::Basic
            };
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(FOLDED)
                    .set_index_option(option)
                    .set_fieldnorms(false),
            )
        };
        let accented = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ACCENTED)
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        );
        let fields = Fields {
            kind: builder.add_u64_field("kind", INDEXED),
            doc: builder.add_u64_field("doc", INDEXED | FAST),
            year: builder.add_u64_field("year", INDEXED | FAST),
            name_key: builder.add_text_field("name_key", STRING),
            name: builder.add_text_field("name", folded(true)),
            subject: builder.add_text_field("subject", folded(false)),
            affiliation: builder.add_text_field("affiliation", folded(false)),
            text: builder.add_text_field("text", folded(true)),
            name_accent: builder.add_text_field("name_accent", accented.clone()),
            text_accent: builder.add_text_field("text_accent", accented),
            facet: builder.add_text_field("facet", STRING),
            body: builder.add_bytes_field("body", BytesOptions::default().set_stored()),
        };
        (builder.build(), fields)
    }

    /// The index document of a shareable record or a mirror at `doc`.
    pub fn document(
        &self,
        doc: i64,
        record: &AnyRecord,
        scope: Scope,
        search: &SearchDocument,
        body: &[u8],
    ) -> TantivyDocument {
        let mut document = TantivyDocument::new();
        document.add_u64(self.kind, record.kind().code() as u64);
        document.add_u64(self.doc, doc as u64);
        // A mirrored expert's year is a birth year its origin disclosed to
        // this node, not to whoever searches it here: no year filter reaches it.
        let year =
            if scope != Scope::Local && record.kind() == lienthong_records::RecordKind::Expert {
                0
            } else {
                search.year
            };
        document.add_u64(self.year, u64::from(year));
        document.add_text(self.name_key, normalized(&search.name));
        document.add_text(self.name, &search.name);
        document.add_text(self.name_accent, &search.name);
        for value in &search.subject {
            document.add_text(self.subject, value);
        }
        for value in &search.affiliation {
            document.add_text(self.affiliation, value);
        }
        for value in search.texts() {
            document.add_text(self.text, value);
            document.add_text(self.text_accent, value);
        }
        for value in &search.facets {
            document.add_text(self.facet, value);
        }
        if let Some(scope) = scope.facet() {
            document.add_text(self.facet, scope);
            // Which node a mirror came from: the national node's figures
            // per province count by it.
            if let Some(origin) = record.id().split(':').next() {
                document.add_text(self.facet, origin_facet(origin));
            }
        }
        document.add_bytes(self.body, body);
        document
    }

    /// The term that identifies the index entry of database position `doc`.
    pub fn doc_term(&self, doc: i64) -> Term {
        Term::from_field_u64(self.doc, doc as u64)
    }
}

/// How the index is kept: each segment's documents sorted by database
/// position, so that ranking can stop breaking ties by position once a walk
/// passes the page's last one (see the collector).
pub(crate) fn settings() -> IndexSettings {
    IndexSettings {
        sort_by_field: Some(IndexSortByField {
            field: "doc".into(),
            order: Order::Asc,
        }),
        ..IndexSettings::default()
    }
}

/// The tokenizers the schema names.
pub(crate) fn tokenizers() -> TokenizerManager {
    let manager = TokenizerManager::default();
    manager.register(FOLDED, WordsTokenizer(tokens));
    manager.register(ACCENTED, WordsTokenizer(accent_keys));
    manager
}

/// A tokenizer from a function that splits text into words.
#[derive(Clone)]
struct WordsTokenizer(fn(&str) -> Vec<String>);

impl Tokenizer for WordsTokenizer {
    type TokenStream<'a> = WordStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream {
        let tokens = (self.0)(text)
            .into_iter()
            .enumerate()
            .map(|(position, text)| Token {
                // Offsets are not used: highlighting compares words.
                offset_from: 0,
                offset_to: 0,
                position,
                text,
                position_length: 1,
            })
            .collect();
        WordStream {
            tokens,
            next: 0,
            current: Token::default(),
        }
    }
}

struct WordStream {
    tokens: Vec<Token>,
    next: usize,
    current: Token,
}

impl TokenStream for WordStream {
    fn advance(&mut self) -> bool {
        match self.tokens.get_mut(self.next) {
            Some(token) => {
                self.current = std::mem::take(token);
                self.next += 1;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}
