//! The three descriptions of the API agree: `template.yaml` (what is deployed), the local API's
//! handlers, and `openapi.yaml`.

use std::collections::BTreeSet;

use local_api::handlers::HANDLERS;
use local_api::routes::{from_template, function_binaries};
use yaml_rust2::YamlLoader;

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn template_routes() -> BTreeSet<(String, String)> {
    from_template(&repo_file("template.yaml"))
        .expect("template parses")
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect()
}

fn openapi_routes() -> BTreeSet<(String, String)> {
    let docs = YamlLoader::load_from_str(&repo_file("openapi.yaml")).expect("openapi.yaml parses");
    let paths = docs[0]["paths"].as_hash().expect("paths");
    let mut routes = BTreeSet::new();
    for (path, operations) in paths {
        for (method, _) in operations.as_hash().expect("operations") {
            let method = method.as_str().expect("method").to_ascii_uppercase();
            if ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
                .contains(&method.as_str())
            {
                routes.insert((method, path.as_str().expect("path").to_owned()));
            }
        }
    }
    routes
}

#[test]
fn every_function_in_the_template_has_exactly_one_route_and_a_local_handler() {
    let routes = from_template(&repo_file("template.yaml")).expect("template parses");
    let template_binaries: Vec<&str> = routes.iter().map(|r| r.binary.as_str()).collect();
    let unique: BTreeSet<&str> = template_binaries.iter().copied().collect();
    let handled: BTreeSet<&str> = HANDLERS.iter().map(|(name, _)| *name).collect();

    assert_eq!(
        template_binaries.len(),
        unique.len(),
        "a binary serves two routes"
    );
    assert_eq!(
        unique, handled,
        "template functions and local-api handlers differ"
    );
    assert_eq!(routes.len(), 14);
}

#[test]
fn the_openapi_document_describes_exactly_the_template_routes() {
    assert_eq!(openapi_routes(), template_routes());
}

#[test]
fn every_function_crate_is_in_the_template() {
    let functions_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let crates: BTreeSet<String> = std::fs::read_dir(&functions_dir)
        .expect("functions/")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "local-api")
        .collect();
    let binaries = function_binaries(&repo_file("template.yaml")).expect("template parses");
    assert_eq!(crates, binaries);
}
