//! Shared by the test files that talk to local-api over real HTTP.

use std::sync::Arc;

use local_api::LocalApi;
use local_api::handlers::States;
use local_api::routes::from_template;

/// local-api with `states`, routed by template.yaml, serving on a free loopback port;
/// returns its base URL (`http://127.0.0.1:<port>`).
pub async fn serve_on_loopback(states: States) -> String {
    let template = std::fs::read_to_string(local_api::template_path()).expect("template.yaml");
    let app =
        Arc::new(LocalApi::new(from_template(&template).expect("routes"), states).expect("app"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(app.serve(listener));
    base
}
