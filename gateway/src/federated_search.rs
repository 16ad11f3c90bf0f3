//! Federated search: one page of merged, ranked hits from many nodes.
//!
//! Every node returns hits best first, with scores on a common scale (see
//! `lienthong.v1.HitRank`). The gateway merges them in one order: score, then
//! the hit's place in its node's page, then the node's place in the
//! configuration. Equal scores therefore interleave the provinces (first of
//! each node, then second of each, ...) rather than listing one province
//! first, and ties break the same way every time.
//!
//! A hit is only placed once nothing still unread can outrank it: a node
//! whose page ended early (it bounds its work per page) reports the best rank
//! its next page can hold, and while that could beat the best hit in hand,
//! the gateway asks that node for more (a few rounds, within the deadline) or
//! ends the page short with a token, as nodes do.
//!
//! The page token keeps each node's cursor at the last hit actually shown;
//! nodes give every hit its own resume cursor, so hits fetched but not shown
//! are fetched again on the next page. Hence no duplicates and no gaps.
//!
//! A node that fails is reported, and left out of the rest of that search's
//! pages (like shard failures in a scroll), so that paging always ends.
//!
//! With `include_mirrors`, nodes also answer from their mirrors of other
//! nodes' records. A mirrored hit stands in for its origin only: it is
//! dropped while the origin answers this search (the origin's own hit is
//! the one shown), and shown once however many nodes mirror it (later
//! copies are absorbed, as twins are, across pages too).

use std::cmp::Ordering;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use lienthong_proto::v1 as pb;
use lienthong_records::{AnyRecord, RecordKind};
use prost::Message;
use tokio::time::Instant;
use tonic::Status;

use crate::page_token::{FederatedToken, NodeCursor, fingerprint};
use lienthong_store::token_seal::TokenSeal;

/// What page tokens are sealed with and bound to.
pub struct PageTokens<'a> {
    /// The gateway's key.
    pub seal: &'a TokenSeal,
    /// The user asking: another user's token is refused.
    pub user: &'a str,
}
use crate::registry::{NodeFailure, NodeHandle, Registry};
use crate::request_error::RequestError;
use crate::twins::{TwinKeys, twin_keys};

/// Hits per page unless the request says otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// The largest page a request may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;

/// One merged hit.
#[derive(Clone, Debug)]
pub struct MergedHit {
    pub record: AnyRecord,
    pub rank: pb::HitRank,
    /// The origin of `record` first, then its twins on other nodes.
    pub provenance: Vec<pb::Provenance>,
}

/// One federated page.
#[derive(Clone, Debug, Default)]
pub struct FederatedPage {
    pub hits: Vec<MergedHit>,
    pub next_page_token: String,
    pub nodes: Vec<pb::NodeStatus>,
}

/// One node's hit, whatever the kind.
struct NodeHit {
    record: AnyRecord,
    rank: pb::HitRank,
    cursor: String,
    /// Set when the node answered from its mirror of another node.
    mirror: Option<pb::MirrorInfo>,
}

/// Mirrored hits shown, remembered in the page token so that another node's
/// copy on a later page is absorbed; past this many, the oldest are
/// forgotten (a copy may then show again).
const MAX_REMEMBERED_MIRRORS: usize = 200;

/// One node's page, whatever the kind.
struct NodePage {
    hits: Vec<NodeHit>,
    next_page_token: String,
    next_score: Option<f64>,
}

struct Buffered {
    hit: NodeHit,
    /// Position in the node's order over the whole search (1 for its first
    /// hit), so that ties interleave the same way whatever the page size.
    position: u64,
    twins: TwinKeys,
    /// Shown already, merged into another node's hit.
    absorbed: bool,
}

enum StreamState {
    Active,
    Done,
    Failed { outcome: i32, message: String },
}

/// One node's side of the merge.
struct Stream {
    node: Arc<NodeHandle>,
    order: usize,
    state: StreamState,
    /// Resumes right after the last hit taken from the buffer.
    cursor: String,
    /// Hits of this search taken from this node so far, earlier pages included.
    taken: u64,
    buffer: VecDeque<Buffered>,
    /// The unread rest: the node's page token and the best score it can hold.
    unread: Option<(String, f64)>,
    positions: u64,
    status: pb::NodeStatus,
}

impl Stream {
    /// Drops absorbed hits at the front; returns the live head.
    fn head(&mut self) -> Option<&Buffered> {
        while self.buffer.front().is_some_and(|entry| entry.absorbed) {
            if let Some(entry) = self.buffer.pop_front() {
                self.cursor = entry.hit.cursor;
                self.taken = self.taken.saturating_add(1);
            }
        }
        self.buffer.front()
    }

    /// Unread hits exist and nothing is buffered to stand for them.
    fn starved(&mut self) -> bool {
        matches!(self.state, StreamState::Active) && self.head().is_none() && self.unread.is_some()
    }
}

/// Orders two hits given as (score, node order, position in the node's
/// results): better score first, then position, then node order.
fn compare(a: (f64, usize, u64), b: (f64, usize, u64)) -> Ordering {
    b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)).then(a.1.cmp(&b.1))
}

/// Runs one page of a federated search of `kind`.
pub async fn search(
    registry: &Registry,
    tokens: &PageTokens<'_>,
    kind: RecordKind,
    request: pb::FederatedSearchRequest,
    deadline: Instant,
    max_rounds: u32,
) -> Result<FederatedPage, RequestError> {
    let page_size = match request.page_size {
        0 => DEFAULT_PAGE_SIZE,
        size if size > MAX_PAGE_SIZE => {
            return Err(RequestError::LimitExceeded(format!(
                "page_size {size} is over the limit of {MAX_PAGE_SIZE}; ask for fewer and follow next_page_token"
            )));
        }
        size => size,
    } as usize;
    let nodes = registry
        .select(&request.nodes)
        .map_err(RequestError::InvalidArgument)?;
    let node_ids: Vec<&str> = nodes.iter().map(|node| node.id()).collect();
    let filters = request.filters.clone().unwrap_or_default();
    // What every node would refuse is refused here, once: a node's own
    // refusal then concerns that node only.
    let check = lienthong_store::SearchRequest::from_proto(
        kind,
        pb::SearchRequest {
            query: request.query.clone(),
            filters: Some(filters.clone()),
            page_size: page_size as u32,
            page_token: String::new(),
            include_mirrors: request.include_mirrors,
        },
        String::new(),
    );
    lienthong_store::search::check_query(&check).map_err(|error| match error {
        lienthong_store::StoreError::LimitExceeded(message) => RequestError::LimitExceeded(message),
        other => RequestError::InvalidArgument(other.to_string()),
    })?;
    let print = fingerprint(&[
        kind.as_str().as_bytes(),
        request.query.as_bytes(),
        &filters.encode_to_vec(),
        node_ids.join(",").as_bytes(),
        tokens.user.as_bytes(),
        &[u8::from(request.include_mirrors)],
    ]);
    let token = FederatedToken::decode(tokens.seal, &request.page_token, print, &node_ids)?;
    let mut absorbed: HashSet<String> = token.absorbed.into_iter().collect();
    let mut streams: Vec<Stream> = nodes
        .iter()
        .zip(token.nodes)
        .enumerate()
        .map(|(order, (node, cursor))| stream(node.clone(), order, cursor))
        .collect();

    let mut hits: Vec<MergedHit> = Vec::with_capacity(page_size);
    let mut round = 0;
    loop {
        let to_fetch: Vec<usize> = (0..streams.len())
            .filter(|&index| streams[index].starved())
            .collect();
        if to_fetch.is_empty() || round > max_rounds || Instant::now() >= deadline {
            break;
        }
        let remaining = (page_size - hits.len()).max(1);
        // Equal scores interleave the nodes, so a page usually takes about an
        // equal share of each: ask each for that share first (plus one), and
        // more only from nodes whose next hits could still make the page.
        // Nodes then do a share of the work instead of a whole page each.
        let wanted = if round == 0 {
            remaining
                .div_ceil(to_fetch.len())
                .saturating_add(1)
                .min(remaining)
        } else {
            remaining
        } as u32;
        fetch(
            registry,
            kind,
            &request,
            &filters,
            wanted,
            deadline,
            &mut streams,
            &to_fetch,
            &mut absorbed,
        )
        .await?;
        round += 1;
        merge(&mut streams, &mut hits, page_size, &mut absorbed);
        if hits.len() == page_size {
            break;
        }
    }

    if request.require_all_nodes {
        // Failed nodes, and nodes the deadline left unasked.
        let failed: Vec<String> = streams
            .iter()
            .filter(|stream| stream.status.outcome != pb::NodeOutcome::Ok as i32)
            .map(|stream| format!("{}: {}", stream.status.node_id, stream.status.message))
            .collect();
        if !failed.is_empty() {
            return Err(RequestError::Unavailable(format!(
                "require_all_nodes is set and not every node answered: {}",
                failed.join("; ")
            )));
        }
    }
    Ok(finish(streams, hits, absorbed, print, tokens.seal))
}

fn stream(node: Arc<NodeHandle>, order: usize, cursor: NodeCursor) -> Stream {
    let mut status = pb::NodeStatus {
        node_id: node.settings.id.clone(),
        display_name: node.settings.display_name.clone(),
        outcome: pb::NodeOutcome::Ok as i32,
        ..Default::default()
    };
    let mut taken = 0;
    let (state, cursor, unread) = match cursor {
        NodeCursor::More {
            cursor,
            taken: already,
            ..
        } => {
            taken = already;
            // Until the node answers: a request whose deadline passes before
            // the node is asked reports it as timed out, not as answering.
            status.outcome = pb::NodeOutcome::Timeout as i32;
            status.message = "not asked: the request's deadline passed first".into();
            (StreamState::Active, cursor.clone(), Some((cursor, 1.0)))
        }
        NodeCursor::Done { .. } => {
            status.message = "no more results".into();
            (StreamState::Done, String::new(), None)
        }
        NodeCursor::Failed {
            outcome, message, ..
        } => {
            status.outcome = outcome;
            status.message = format!("failed on an earlier page, left out since: {message}");
            (
                StreamState::Failed { outcome, message },
                String::new(),
                None,
            )
        }
    };
    Stream {
        node,
        order,
        state,
        cursor,
        taken,
        buffer: VecDeque::new(),
        unread,
        positions: taken,
        status,
    }
}

/// Asks the `to_fetch` streams' nodes for their next `wanted` hits, at once.
#[allow(clippy::too_many_arguments)]
async fn fetch(
    registry: &Registry,
    kind: RecordKind,
    request: &pb::FederatedSearchRequest,
    filters: &pb::SearchFilters,
    wanted: u32,
    deadline: Instant,
    streams: &mut [Stream],
    to_fetch: &[usize],
    absorbed: &mut HashSet<String>,
) -> Result<(), RequestError> {
    let nodes: Vec<Arc<NodeHandle>> = to_fetch
        .iter()
        .map(|&index| streams[index].node.clone())
        .collect();
    let searches: Vec<pb::SearchRequest> = to_fetch
        .iter()
        .map(|&index| pb::SearchRequest {
            query: request.query.clone(),
            filters: Some(filters.clone()),
            page_size: wanted,
            page_token: streams[index]
                .unread
                .as_ref()
                .map(|(token, _)| token.clone())
                .unwrap_or_default(),
            include_mirrors: request.include_mirrors,
        })
        .collect();
    let results = registry
        .fan_out(&nodes, deadline, |index, client, timeout| {
            search_node(client, kind, searches[index].clone(), timeout)
        })
        .await;
    for (&index, call) in to_fetch.iter().zip(results) {
        let stream = &mut streams[index];
        stream.status.latency_ms += call.latency.as_secs_f64() * 1000.0;
        match call.result {
            Ok(page) => {
                stream.status.outcome = pb::NodeOutcome::Ok as i32;
                stream.status.message.clear();
                stream.status.hits += page.hits.len() as u32;
                let last_score = page.hits.last().map(|hit| hit.rank.score);
                for hit in page.hits {
                    // A shown mirror stays remembered: more nodes may hold it.
                    let seen = if hit.mirror.is_some() {
                        absorbed.contains(hit.record.id())
                    } else {
                        absorbed.remove(hit.record.id())
                    };
                    stream.positions = stream.positions.saturating_add(1);
                    stream.buffer.push_back(Buffered {
                        twins: twin_keys(&hit.record),
                        hit,
                        position: stream.positions,
                        absorbed: seen,
                    });
                }
                stream.unread = (!page.next_page_token.is_empty()).then(|| {
                    let bound = page.next_score.or(last_score).unwrap_or(1.0);
                    (page.next_page_token, bound)
                });
            }
            Err(NodeFailure::Rejected(refusal)) => {
                return Err(RequestError::RefusedByNode {
                    node: stream.status.node_id.clone(),
                    refusal,
                });
            }
            Err(failure) => {
                stream.status.outcome = failure.outcome() as i32;
                stream.status.message = failure.message();
                stream.state = StreamState::Failed {
                    outcome: failure.outcome() as i32,
                    message: failure.message(),
                };
                stream.buffer.clear();
                stream.unread = None;
            }
        }
    }
    Ok(())
}

/// Moves hits into the page while no unread hit could outrank them.
/// `shown_mirrors` gains the ids of mirrored hits shown.
fn merge(
    streams: &mut [Stream],
    hits: &mut Vec<MergedHit>,
    page_size: usize,
    shown_mirrors: &mut HashSet<String>,
) {
    while hits.len() < page_size {
        let mut best: Option<(usize, (f64, usize, u64))> = None;
        for (index, stream) in streams.iter_mut().enumerate() {
            if !matches!(stream.state, StreamState::Active) {
                continue;
            }
            let order = stream.order;
            if let Some(head) = stream.head() {
                let key = (head.hit.rank.score, order, head.position);
                if best.is_none_or(|(_, best_key)| compare(key, best_key) == Ordering::Less) {
                    best = Some((index, key));
                }
            }
        }
        let Some((winner, best_key)) = best else {
            return;
        };
        // A starved node whose unread hits could still come first blocks the page.
        let blocked = streams.iter_mut().any(|stream| {
            let next_position = stream.positions.saturating_add(1);
            let stream_order = stream.order;
            stream.starved()
                && stream.unread.as_ref().is_some_and(|(_, bound)| {
                    compare((*bound, stream_order, next_position), best_key) == Ordering::Less
                })
        });
        if blocked {
            return;
        }
        let Some(entry) = streams[winner].buffer.pop_front() else {
            return;
        };
        streams[winner].cursor = entry.hit.cursor.clone();
        streams[winner].taken = streams[winner].taken.saturating_add(1);
        if entry.hit.mirror.is_some() {
            // The origin is the record id's first part, whatever the
            // mirroring node says.
            let origin = entry.hit.record.id().split(':').next().unwrap_or_default();
            let origin_answers = streams.iter().any(|stream| {
                stream.status.node_id == origin
                    && !matches!(stream.state, StreamState::Failed { .. })
            });
            if origin_answers {
                continue;
            }
            let id = entry.hit.record.id();
            for stream in streams.iter_mut() {
                for other in stream.buffer.iter_mut() {
                    if other.hit.record.id() == id {
                        other.absorbed = true;
                    }
                }
            }
            if shown_mirrors.len() < MAX_REMEMBERED_MIRRORS {
                shown_mirrors.insert(id.to_owned());
            }
        }
        let mut provenance = vec![pb::Provenance {
            node_id: streams[winner].status.node_id.clone(),
            record_id: entry.hit.record.id().to_owned(),
            mirror: entry.hit.mirror.clone(),
        }];
        if entry.twins.any() {
            for (index, stream) in streams.iter_mut().enumerate() {
                if index == winner || !matches!(stream.state, StreamState::Active) {
                    continue;
                }
                if let Some(twin) = stream
                    .buffer
                    .iter_mut()
                    .find(|other| !other.absorbed && entry.twins.matches(&other.twins))
                {
                    twin.absorbed = true;
                    provenance.push(pb::Provenance {
                        node_id: stream.status.node_id.clone(),
                        record_id: twin.hit.record.id().to_owned(),
                        mirror: twin.hit.mirror.clone(),
                    });
                }
            }
        }
        hits.push(MergedHit {
            record: entry.hit.record,
            rank: entry.hit.rank,
            provenance,
        });
    }
}

/// Builds the next token and the per-node statuses.
fn finish(
    mut streams: Vec<Stream>,
    hits: Vec<MergedHit>,
    mut absorbed: HashSet<String>,
    print: u64,
    seal: &TokenSeal,
) -> FederatedPage {
    let mut cursors = Vec::with_capacity(streams.len());
    let mut any_more = false;
    for stream in &mut streams {
        let id = stream.status.node_id.clone();
        let cursor = match &stream.state {
            StreamState::Failed { outcome, message } => NodeCursor::Failed {
                id,
                outcome: *outcome,
                message: message.clone(),
            },
            StreamState::Done => NodeCursor::Done { id },
            StreamState::Active => {
                if stream.head().is_some() {
                    absorbed.extend(
                        stream
                            .buffer
                            .iter()
                            .filter(|entry| entry.absorbed)
                            .map(|entry| entry.hit.record.id().to_owned()),
                    );
                    NodeCursor::More {
                        id,
                        cursor: stream.cursor.clone(),
                        taken: stream.taken,
                    }
                } else if let Some((token, _)) = &stream.unread {
                    NodeCursor::More {
                        id,
                        cursor: token.clone(),
                        taken: stream.taken,
                    }
                } else {
                    NodeCursor::Done { id }
                }
            }
        };
        any_more |= matches!(cursor, NodeCursor::More { .. });
        cursors.push(cursor);
    }
    // Only ids on nodes that still have results can come back: a node's own
    // records, or (as mirrors) those of nodes that are not answering.
    let active: HashSet<&str> = cursors
        .iter()
        .filter(|cursor| matches!(cursor, NodeCursor::More { .. }))
        .map(NodeCursor::id)
        .collect();
    let answering: HashSet<&str> = cursors
        .iter()
        .filter(|cursor| !matches!(cursor, NodeCursor::Failed { .. }))
        .map(NodeCursor::id)
        .collect();
    let mut absorbed: Vec<String> = absorbed
        .into_iter()
        .filter(|id| {
            id.split(':').next().is_some_and(|node| {
                active.contains(node) || (!answering.contains(node) && !active.is_empty())
            })
        })
        .collect();
    absorbed.sort();
    let next_page_token = if any_more {
        FederatedToken {
            fingerprint: print,
            nodes: cursors,
            absorbed,
        }
        .encode(seal)
    } else {
        String::new()
    };
    FederatedPage {
        hits,
        next_page_token,
        nodes: streams.into_iter().map(|stream| stream.status).collect(),
    }
}

/// One page of one node, whatever the kind.
async fn search_node(
    mut client: crate::registry::NodeClient,
    kind: RecordKind,
    search: pb::SearchRequest,
    timeout: Duration,
) -> Result<NodePage, Status> {
    let mut request = tonic::Request::new(search);
    request.set_timeout(timeout);
    let score = |rank: Option<pb::HitRank>| rank.map(|rank| rank.score);
    let page = match kind {
        RecordKind::Expert => {
            let response = client.search_experts(request).await?.into_inner();
            NodePage {
                next_score: score(response.next_page_rank),
                next_page_token: response.next_page_token,
                hits: response
                    .hits
                    .into_iter()
                    .filter_map(|hit| {
                        node_hit(
                            hit.expert.map(AnyRecord::Expert),
                            hit.rank,
                            hit.cursor,
                            hit.mirror,
                        )
                    })
                    .collect(),
            }
        }
        RecordKind::Project => {
            let response = client.search_projects(request).await?.into_inner();
            NodePage {
                next_score: score(response.next_page_rank),
                next_page_token: response.next_page_token,
                hits: response
                    .hits
                    .into_iter()
                    .filter_map(|hit| {
                        node_hit(
                            hit.project.map(AnyRecord::Project),
                            hit.rank,
                            hit.cursor,
                            hit.mirror,
                        )
                    })
                    .collect(),
            }
        }
        RecordKind::Publication => {
            let response = client.search_publications(request).await?.into_inner();
            NodePage {
                next_score: score(response.next_page_rank),
                next_page_token: response.next_page_token,
                hits: response
                    .hits
                    .into_iter()
                    .filter_map(|hit| {
                        node_hit(
                            hit.publication.map(AnyRecord::Publication),
                            hit.rank,
                            hit.cursor,
                            hit.mirror,
                        )
                    })
                    .collect(),
            }
        }
        RecordKind::Organization => {
            return Err(Status::invalid_argument(
                "organizations are searched on each node, not federated",
            ));
        }
    };
    Ok(page)
}

fn node_hit(
    record: Option<AnyRecord>,
    rank: Option<pb::HitRank>,
    cursor: String,
    mirror: Option<pb::MirrorInfo>,
) -> Option<NodeHit> {
    Some(NodeHit {
        record: record?,
        rank: rank.unwrap_or_default(),
        cursor,
        mirror,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GatewayConfig;

    fn registry() -> Registry {
        let config = GatewayConfig::from_toml(
            "[[nodes]]\nid = \"hung-yen\"\ndisplay_name = \"A\"\nendpoint = \"http://127.0.0.1:9\"\n\
             [[nodes]]\nid = \"nam-dinh\"\ndisplay_name = \"B\"\nendpoint = \"http://127.0.0.1:9\"\n",
        )
        .unwrap();
        crate::federation::node_registry(
            &config,
            &lienthong_runtime::tls::Transport::InsecurePlaintext,
        )
        .unwrap()
    }

    /// Streams of both nodes at the start of a search.
    fn first_page_streams(registry: &Registry) -> [Stream; 2] {
        let nodes = registry.nodes();
        [0, 1].map(|index| {
            stream(
                nodes[index].clone(),
                index,
                NodeCursor::More {
                    id: nodes[index].id().to_owned(),
                    cursor: String::new(),
                    taken: 0,
                },
            )
        })
    }

    fn hit(node: &str, local: &str, score: f64) -> NodeHit {
        NodeHit {
            record: AnyRecord::Expert(pb::Expert {
                meta: Some(pb::RecordMeta {
                    id: format!("{node}:expert:{local}"),
                    ..Default::default()
                }),
                full_name: local.into(),
                ..Default::default()
            }),
            rank: pb::HitRank {
                tier: 0,
                score,
                ..Default::default()
            },
            cursor: format!("after-{local}"),
            mirror: None,
        }
    }

    /// `holder`'s mirror of `origin`'s record `local`.
    fn mirrored(holder: &str, origin: &str, local: &str, score: f64) -> NodeHit {
        let mut mirrored = hit(origin, local, score);
        mirrored.cursor = format!("{holder}-after-{local}");
        mirrored.mirror = Some(pb::MirrorInfo {
            origin_node_id: origin.into(),
            changed_at: "2026-11-30T08:00:00Z".into(),
            synced_at: "2026-11-30T09:00:00Z".into(),
        });
        mirrored
    }

    fn fill(stream: &mut Stream, hits: Vec<NodeHit>, unread: Option<(&str, f64)>) {
        for hit in hits {
            stream.positions += 1;
            stream.buffer.push_back(Buffered {
                twins: TwinKeys::default(),
                hit,
                position: stream.positions,
                absorbed: false,
            });
        }
        stream.unread = unread.map(|(token, bound)| (token.to_owned(), bound));
    }

    fn placed(hits: &[MergedHit]) -> Vec<String> {
        hits.iter().map(|hit| hit.record.id().to_owned()).collect()
    }

    #[tokio::test]
    async fn a_node_whose_page_ended_early_holds_back_what_it_could_outrank() {
        let registry = registry();
        let [mut a, mut b] = first_page_streams(&registry);
        // A stopped early after one hit; its next hits can still score 0.9.
        fill(
            &mut a,
            vec![hit("hung-yen", "a1", 0.9)],
            Some(("resume-a", 0.9)),
        );
        fill(
            &mut b,
            vec![
                hit("nam-dinh", "b1", 0.9),
                hit("nam-dinh", "b2", 0.9),
                hit("nam-dinh", "b3", 0.7),
            ],
            None,
        );
        let mut streams = vec![a, b];
        let mut hits = Vec::new();
        merge(&mut streams, &mut hits, 3, &mut HashSet::new());
        // a1 and b1 are first of their nodes; b2 (second of B) must wait for
        // A's second hit, which could tie it and comes first by node order.
        assert_eq!(placed(&hits), ["hung-yen:expert:a1", "nam-dinh:expert:b1"]);

        let seal = TokenSeal::new(&TokenSeal::random_key());
        let page = finish(streams, hits, HashSet::new(), 7, &seal);
        let token =
            FederatedToken::decode(&seal, &page.next_page_token, 7, &["hung-yen", "nam-dinh"])
                .unwrap();
        assert_eq!(
            token.nodes,
            [
                NodeCursor::More {
                    id: "hung-yen".into(),
                    cursor: "resume-a".into(),
                    taken: 1
                },
                NodeCursor::More {
                    id: "nam-dinh".into(),
                    cursor: "after-b1".into(),
                    taken: 1
                },
            ]
        );
    }

    #[tokio::test]
    async fn a_mirror_stands_in_only_for_an_origin_that_did_not_answer_and_only_once() {
        let registry = registry();
        let [mut a, mut b] = first_page_streams(&registry);
        // Hưng Yên answers with its own hit, a mirror of a Nam Định record
        // and a mirror of a record of a node not asked, which stands in.
        fill(
            &mut a,
            vec![
                hit("hung-yen", "a1", 0.9),
                mirrored("hung-yen", "nam-dinh", "b1", 0.8),
                mirrored("hung-yen", "thai-binh", "c1", 0.7),
            ],
            None,
        );
        // Nam Định answers: Hưng Yên's mirror of b1 is dropped, its own b1
        // is shown.
        fill(&mut b, vec![hit("nam-dinh", "b1", 0.8)], None);
        let mut streams = vec![a, b];
        let mut hits = Vec::new();
        let mut shown = HashSet::new();
        merge(&mut streams, &mut hits, 10, &mut shown);
        assert_eq!(
            placed(&hits),
            [
                "hung-yen:expert:a1",
                "nam-dinh:expert:b1",
                "thai-binh:expert:c1"
            ]
        );
        assert!(hits[1].provenance[0].mirror.is_none());
        let stand_in = &hits[2].provenance[0];
        assert_eq!(stand_in.node_id, "hung-yen");
        assert_eq!(
            stand_in.mirror.as_ref().map(|m| m.origin_node_id.as_str()),
            Some("thai-binh")
        );
        assert!(shown.contains("thai-binh:expert:c1"));

        // Both nodes mirror a record of a node not asked: it shows once.
        let [mut a, mut b] = first_page_streams(&registry);
        fill(
            &mut a,
            vec![mirrored("hung-yen", "thai-binh", "c1", 0.8)],
            None,
        );
        fill(
            &mut b,
            vec![mirrored("nam-dinh", "thai-binh", "c1", 0.8)],
            None,
        );
        let mut streams = vec![a, b];
        let mut hits = Vec::new();
        merge(&mut streams, &mut hits, 10, &mut HashSet::new());
        assert_eq!(placed(&hits), ["thai-binh:expert:c1"]);

        // Nam Định fails: Hưng Yên's mirror of its record stands in.
        let [mut a, mut b] = first_page_streams(&registry);
        fill(
            &mut a,
            vec![mirrored("hung-yen", "nam-dinh", "b1", 0.8)],
            None,
        );
        b.state = StreamState::Failed {
            outcome: pb::NodeOutcome::Unavailable as i32,
            message: "down".into(),
        };
        let mut streams = vec![a, b];
        let mut hits = Vec::new();
        merge(&mut streams, &mut hits, 10, &mut HashSet::new());
        assert_eq!(placed(&hits), ["nam-dinh:expert:b1"]);
        assert_eq!(hits[0].provenance[0].node_id, "hung-yen");
    }

    #[tokio::test]
    async fn lower_bounds_let_the_page_fill_and_exhausted_nodes_finish() {
        let registry = registry();
        let [mut a, mut b] = first_page_streams(&registry);
        fill(
            &mut a,
            vec![hit("hung-yen", "a1", 0.9)],
            Some(("resume-a", 0.5)),
        );
        fill(
            &mut b,
            vec![
                hit("nam-dinh", "b1", 0.9),
                hit("nam-dinh", "b2", 0.9),
                hit("nam-dinh", "b3", 0.7),
            ],
            None,
        );
        let mut streams = vec![a, b];
        let mut hits = Vec::new();
        merge(&mut streams, &mut hits, 4, &mut HashSet::new());
        assert_eq!(
            placed(&hits),
            [
                "hung-yen:expert:a1",
                "nam-dinh:expert:b1",
                "nam-dinh:expert:b2",
                "nam-dinh:expert:b3"
            ]
        );
        let seal = TokenSeal::new(&TokenSeal::random_key());
        let page = finish(streams, hits, HashSet::new(), 7, &seal);
        let token =
            FederatedToken::decode(&seal, &page.next_page_token, 7, &["hung-yen", "nam-dinh"])
                .unwrap();
        assert_eq!(
            token.nodes[1],
            NodeCursor::Done {
                id: "nam-dinh".into()
            }
        );
    }
}
