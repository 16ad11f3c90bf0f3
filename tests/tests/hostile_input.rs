//! Hostile input never breaks a node: hundreds of random queries, filters, page
//! sizes and page tokens each get an answer or a clear client error, never an
//! internal error, and the node keeps serving.

use lienthong_proto::v1 as pb;
use lienthong_tests::{TestDatabase, TestNode, load, sample_records};
use tonic::Code;

/// Small deterministic generator (xorshift64*), so a failure reproduces.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// Text mixing Vietnamese, quotes, wildcards, SQL, control and odd Unicode.
    fn text(&mut self, max_pieces: u64) -> String {
        const PIECES: &[&str] = &[
            "nguyễn",
            "Đinh",
            "hoà",
            "thủy",
            "\"",
            "\"nghiên cứu",
            "%",
            "_",
            "' OR 1=1 --",
            "\\",
            "\u{0}",
            "\u{202e}",
            "e\u{0302}\u{0303}",
            "🙂",
            "　",
            "lúa",
            "PGS.TS.",
            "4010101",
            ";",
            "*",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            " ",
            "\n",
            "ي",
            "漢字",
            "-",
            "$1",
            "?",
        ];
        let pieces = self.below(max_pieces + 1);
        (0..pieces)
            .map(|_| self.pick(PIECES))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_hostile_requests_get_answers_or_client_errors_and_the_node_keeps_serving() {
    for database in TestDatabase::each_backend().await {
        let node = TestNode::start("hung-yen", &database).await;
        load(&node.store, sample_records("hung-yen", 200)).await;
        let mut client = node.client().await;
        let mut dice = Dice(0x5eed_2026_1128_0001);
        let mut answered = 0;
        for round in 0..300 {
            let filters = pb::SearchFilters {
                field_code_prefixes: (0..dice.below(3)).map(|_| dice.text(1)).collect(),
                organization_id: if dice.below(4) == 0 {
                    dice.text(2)
                } else {
                    String::new()
                },
                academic_title: dice.below(5) as i32 - 1,
                degree: if dice.below(3) == 0 {
                    dice.below(9) as i32 - 1
                } else {
                    0
                },
                year_from: if dice.below(3) == 0 {
                    dice.below(3000) as u32
                } else {
                    0
                },
                year_to: if dice.below(3) == 0 {
                    dice.below(3000) as u32
                } else {
                    0
                },
                statuses: (0..dice.below(2))
                    .map(|_| dice.below(8) as i32 - 1)
                    .collect(),
                management_levels: (0..dice.below(2))
                    .map(|_| dice.below(7) as i32 - 1)
                    .collect(),
            };
            let request = pb::SearchRequest {
                query: dice.text(12),
                filters: Some(filters),
                page_size: dice
                    .pick(&["0", "1", "20", "100", "101", "4294967295"])
                    .parse()
                    .unwrap_or(0),
                page_token: match dice.below(4) {
                    0 => dice.text(3),
                    1 => format!("p1.{}", dice.text(2)),
                    _ => String::new(),
                },
                include_mirrors: dice.below(2) == 0,
            };
            let result = match dice.below(4) {
                0 => client.search_experts(request).await.map(|_| ()),
                1 => client.search_projects(request).await.map(|_| ()),
                2 => client.search_publications(request).await.map(|_| ()),
                _ => client.search_organizations(request).await.map(|_| ()),
            };
            match result {
                Ok(()) => answered += 1,
                Err(status) => {
                    assert!(
                        matches!(
                            status.code(),
                            Code::InvalidArgument | Code::ResourceExhausted
                        ),
                        "{:?} round {round}: {:?} {}",
                        database.backend,
                        status.code(),
                        status.message()
                    );
                    assert!(
                        !status.message().is_empty(),
                        "round {round}: an error must say what is wrong"
                    );
                }
            }
            let get = client.get_expert(pb::GetRequest { id: dice.text(3) }).await;
            if let Err(status) = get {
                assert!(
                    matches!(status.code(), Code::InvalidArgument | Code::NotFound),
                    "{:?} round {round}: get: {:?} {}",
                    database.backend,
                    status.code(),
                    status.message()
                );
            }
        }
        assert!(
            answered > 0,
            "some random requests are valid and must be answered"
        );
        let info = client
            .info(pb::InfoRequest {})
            .await
            .expect("the node still serves")
            .into_inner();
        assert_eq!(info.node_id, "hung-yen");
        node.stop().await.expect("clean stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_filters_are_client_errors_not_database_errors() {
    for database in TestDatabase::each_backend().await {
        let node = TestNode::start("hung-yen", &database).await;
        load(&node.store, sample_records("hung-yen", 50)).await;
        let mut client = node.client().await;
        for organization_id in ["\u{0}", "hung-yen:organization:O\u{0}1", "x\u{7}y"] {
            let request = pb::SearchRequest {
                query: "nguyen".into(),
                filters: Some(pb::SearchFilters {
                    organization_id: organization_id.into(),
                    ..Default::default()
                }),
                ..Default::default()
            };
            let status = client
                .search_experts(request)
                .await
                .expect_err("a malformed organization id is refused");
            assert_eq!(
                status.code(),
                Code::InvalidArgument,
                "{:?}: {}",
                database.backend,
                status.message()
            );
            assert!(
                status.message().contains("organization_id"),
                "{}",
                status.message()
            );
        }
        node.stop().await.expect("clean stop");
    }
}
