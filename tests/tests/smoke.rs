//! A node answers a search over real gRPC, on each backend.

use lienthong_proto::v1 as pb;
use lienthong_tests::{TestDatabase, TestNode, load, sample_records};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_answers_a_folded_search_over_grpc() {
    for database in TestDatabase::each_backend().await {
        let node = TestNode::start("hung-yen", &database).await;
        load(&node.store, sample_records("hung-yen", 300)).await;
        let mut client = node.client().await;
        let response = client
            .search_experts(pb::SearchRequest {
                query: "NGUYEN".into(),
                page_size: 5,
                ..Default::default()
            })
            .await
            .expect("search")
            .into_inner();
        assert_eq!(response.hits.len(), 5, "{:?}", database.backend);
        for hit in &response.hits {
            let name = &hit.expert.as_ref().unwrap().full_name;
            assert!(name.contains("Nguyễn"), "{name}");
        }
        node.stop().await.expect("clean stop");
    }
}
