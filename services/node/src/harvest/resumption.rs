//! Resumption tokens: where a list left off, sealed under the node's own
//! key (so a harvester can neither read nor alter one), and bound to the
//! harvester it was given to. A token carries the list's whole request and
//! its fixed change-log range, so that the next page answers exactly the
//! same list.

use lienthong_store::{HarvestPosition, TokenSeal, token_seal::Unsealed};
use serde::{Deserialize, Serialize};

const PREFIX: &str = "oai1.";

/// The state of one list between pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListState {
    /// ListRecords (true) or ListIdentifiers.
    pub records: bool,
    /// Who may use it: the harvester's identity, or "public".
    pub who: String,
    pub metadata_prefix: String,
    pub set: Option<String>,
    /// Exact datestamp bounds (`YYYY-MM-DDThh:mm:ssZ`).
    pub from: Option<String>,
    pub until: Option<String>,
    /// The change-log range: after (seq, doc), up to `last`.
    pub after_seq: i64,
    pub after_doc: i64,
    pub last: i64,
    /// Records delivered before this page.
    pub cursor: u64,
    /// The list's size when it started, when known.
    pub complete_list_size: Option<u64>,
    /// The record that showed another page would follow.
    #[serde(default)]
    pub peek: Option<String>,
}

impl ListState {
    pub fn after(&self) -> HarvestPosition {
        HarvestPosition {
            seq: self.after_seq,
            doc: self.after_doc,
        }
    }

    pub fn seal(&self, seal: &TokenSeal) -> String {
        // Serializing plain fields cannot fail.
        let payload = serde_json::to_vec(self).unwrap_or_default();
        seal.seal(PREFIX, &payload)
    }

    /// The state a token holds, if it is ours, intact, unexpired and
    /// `who`'s; otherwise why not, for the harvester.
    pub fn open(
        seal: &TokenSeal,
        token: &str,
        lifetime_seconds: u64,
        who: &str,
    ) -> Result<ListState, &'static str> {
        let payload = seal
            .open(PREFIX, token, lifetime_seconds)
            .map_err(|error| match error {
                Unsealed::Expired => {
                    "the resumption token has expired; start the list again without it"
                }
                Unsealed::Invalid => {
                    "the resumption token is not one this repository issued; send it as \
                     received, or start the list again"
                }
            })?;
        let state: ListState = serde_json::from_slice(&payload)
            .map_err(|_| "the resumption token is not one this repository issued")?;
        if state.who != who {
            return Err("the resumption token was issued to another harvester");
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(who: &str) -> ListState {
        ListState {
            records: true,
            who: who.into(),
            metadata_prefix: "oai_dc".into(),
            set: None,
            from: None,
            until: None,
            after_seq: 7,
            after_doc: 9,
            last: 100,
            cursor: 100,
            complete_list_size: Some(250),
            peek: None,
        }
    }

    #[test]
    fn a_token_opens_only_for_its_harvester_and_only_while_fresh() {
        let seal = TokenSeal::new(&TokenSeal::random_key());
        let token = state("public").seal(&seal);
        assert_eq!(
            ListState::open(&seal, &token, 60, "public"),
            Ok(state("public"))
        );
        assert!(ListState::open(&seal, &token, 60, "system:vista").is_err());
        let other = TokenSeal::new(&TokenSeal::random_key());
        assert!(ListState::open(&other, &token, 60, "public").is_err());
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let expired = ListState::open(&seal, &token, 0, "public").unwrap_err();
        assert!(expired.contains("expired"), "{expired}");
    }
}
