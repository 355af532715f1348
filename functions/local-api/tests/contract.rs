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

fn function_count() -> usize {
    function_binaries(&repo_file("template.yaml"))
        .expect("template parses")
        .len()
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

/// The one function with two routes: the viewer's page (`GET /`) and its assets.
const VIEWER_ROUTES: [(&str, &str); 2] = [("GET", "/"), ("GET", "/viewer/{asset}")];

#[test]
fn every_function_in_the_template_has_exactly_one_route_and_a_local_handler() {
    let routes = from_template(&repo_file("template.yaml")).expect("template parses");
    let (viewer, api): (Vec<_>, Vec<_>) = routes.iter().partition(|r| r.binary == "viewer");
    let template_binaries: Vec<&str> = api.iter().map(|r| r.binary.as_str()).collect();
    let mut unique: BTreeSet<&str> = template_binaries.iter().copied().collect();
    unique.insert("viewer");
    let handled: BTreeSet<&str> = HANDLERS.iter().map(|(name, _)| *name).collect();

    assert_eq!(
        template_binaries.len() + 1,
        unique.len(),
        "a binary serves two routes"
    );
    assert_eq!(
        viewer
            .iter()
            .map(|r| (r.method.as_str(), r.path.as_str()))
            .collect::<Vec<_>>(),
        VIEWER_ROUTES,
        "the viewer serves its page and its assets"
    );
    assert_eq!(
        unique, handled,
        "template functions and local-api handlers differ"
    );
    assert_eq!(routes.len(), 26);
}

#[test]
fn the_openapi_document_describes_exactly_the_template_routes() {
    assert_eq!(openapi_routes(), template_routes());
}

/// Who may call what: every route of `template.yaml` with the scope its function declares
/// (`ROUTE_SCOPE`). A route added, or a scope changed, must be changed here on purpose.
const ROUTE_SCOPES: [(&str, Option<&str>); 26] = [
    ("DELETE /clients/{identifier}", Some("erase")),
    ("DELETE /clients/{identifier}/legal-hold", Some("erase")),
    ("DELETE /tickets/{ticketId}", Some("erase")),
    ("DELETE /tickets/{ticketId}/legal-hold", Some("erase")),
    ("GET /", None),
    ("GET /access-log", Some("audit")),
    ("GET /clients", Some("read")),
    ("GET /clients/{identifier}", Some("read")),
    ("GET /clients/{identifier}/tickets", Some("read")),
    ("GET /exports/{exportId}", Some("export")),
    ("GET /exports/{exportId}/file", Some("export")),
    ("GET /me", Some("any-token")),
    ("GET /tickets", Some("read")),
    ("GET /tickets/{ticketId}", Some("read")),
    ("GET /tickets/{ticketId}/transactions", Some("read")),
    (
        "GET /tickets/{ticketId}/transactions/{transactionId}/attachments/{attachmentId}",
        Some("read"),
    ),
    ("GET /viewer/{asset}", None),
    ("PATCH /clients/{identifier}", Some("write")),
    ("PATCH /tickets/{ticketId}", Some("write")),
    ("POST /clients", Some("write")),
    ("POST /clients/{identifier}/exports", Some("export")),
    ("POST /clients/{identifier}/tickets", Some("write")),
    ("POST /webhooks/glassix/new-ticket", None),
    ("POST /webhooks/glassix/ticket-state-change", None),
    ("PUT /clients/{identifier}/legal-hold", Some("erase")),
    ("PUT /tickets/{ticketId}/legal-hold", Some("erase")),
];

#[test]
fn every_route_declares_its_scope_once_in_the_template_and_openapi_names_the_same() {
    let routes = from_template(&repo_file("template.yaml")).expect("template parses");
    let mut declared: Vec<(String, Option<String>)> = routes
        .iter()
        .map(|route| (route.key(), route.scope.clone()))
        .collect();
    declared.sort();
    let expected: Vec<(String, Option<String>)> = ROUTE_SCOPES
        .iter()
        .map(|(key, scope)| ((*key).to_owned(), scope.map(str::to_owned)))
        .collect();
    assert_eq!(declared, expected);

    for route in &routes {
        let rest = local_api::handlers::handler(&route.binary).is_some_and(|h| h.is_rest());
        assert_eq!(
            rest,
            route.scope.is_some(),
            "{}: a REST route, and only one, declares a ROUTE_SCOPE",
            route.key()
        );
        if let Some(scope) = &route.scope {
            assert!(
                shared::access::RouteScope::parse(scope).is_some(),
                "{}: {scope} is no scope",
                route.key()
            );
        }
    }

    let docs = YamlLoader::load_from_str(&repo_file("openapi.yaml")).expect("openapi.yaml parses");
    for route in &routes {
        let operation =
            &docs[0]["paths"][route.path.as_str()][route.method.to_ascii_lowercase().as_str()];
        assert_eq!(
            operation["x-required-scope"].as_str(),
            route.scope.as_deref(),
            "openapi.yaml's x-required-scope of {}",
            route.key()
        );
        let refuses_scope = !operation["responses"]["403"].is_badvalue();
        let logged_scope = route.scope.as_deref().is_some_and(|s| s != "any-token");
        assert_eq!(refuses_scope, logged_scope, "403 of {}", route.key());
    }
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

/// CI builds every bootstrap once, with `cargo lambda build --release --arm64 --workspace`
/// (README, "What CI builds"), and does not run `sam build`, which would build each of them
/// again. That is sound only while `sam build` would build exactly those: every function by
/// cargo-lambda from the workspace root, under its crate's binary name, for arm64 on
/// `provided.al2023`.
/// Least privilege by role: the functions that call Glassix read the Glassix secret, the REST
/// functions and the migration the API secret, the viewer none; each reads only its own.
#[test]
fn each_function_reads_only_the_secret_of_its_role() {
    let glassix = [
        "webhook-new-ticket",
        "webhook-ticket-state-change",
        "archive-worker",
        "reconcile-closed-tickets",
    ];
    let docs = YamlLoader::load_from_str(&repo_file("template.yaml")).expect("template parses");
    let template = &docs[0];
    assert!(
        template["Globals"]["Function"]["Environment"]["Variables"]["APP_SECRET_ARN"].is_badvalue(),
        "no secret for every function"
    );
    let mut roles = std::collections::BTreeMap::new();
    for (name, resource) in template["Resources"].as_hash().expect("Resources") {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().expect("logical id");
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("a binary");
        let properties = &resource["Properties"];
        // YAML drops the `!Ref` tag: a reference reads as the name it refers to.
        let read: Vec<&str> = properties["Policies"]
            .as_vec()
            .into_iter()
            .flatten()
            .filter_map(|policy| {
                policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"].as_str()
            })
            .collect();
        let configured = properties["Environment"]["Variables"]["APP_SECRET_ARN"].as_str();
        let expected = match binary {
            "viewer" => None,
            binary if glassix.contains(&binary) => Some("GlassixSecretArn"),
            _ => Some("ApiSecretArn"),
        };
        assert_eq!(
            read,
            expected.into_iter().collect::<Vec<_>>(),
            "{name} may read"
        );
        assert_eq!(configured, expected, "{name} is configured from");
        roles.insert(binary, expected);
    }
    assert_eq!(roles.len(), function_count(), "{roles:?}");
    let worker = &template["Resources"]["ArchiveWorkerFunction"]["Properties"];
    let list_bucket = worker["Policies"]
        .as_vec()
        .into_iter()
        .flatten()
        .flat_map(|policy| policy["Statement"].as_vec().into_iter().flatten())
        .find(|statement| statement["Action"].as_str() == Some("s3:ListBucket"))
        .expect("the worker lists its prefix");
    assert_eq!(
        list_bucket["Condition"]["StringLike"]["s3:prefix"].as_str(),
        Some("tickets/*"),
        "the worker lists only the archive's prefix"
    );
    assert_eq!(
        worker["Events"]["Queue"]["Properties"]["ScalingConfig"]["MaximumConcurrency"].as_str(),
        Some("ArchiveWorkerMaxConcurrency"),
        "a backlog cannot open more than the parameter's worth of MongoDB connections"
    );
    let statements = repo_file("template.yaml");
    assert!(
        !statements.contains("secretsmanager:GetSecretValue"),
        "no hand-written secret statement beside the per-role policies"
    );
}

/// Operations: every function logs to a log group of the stack, kept `LogRetentionDays`; the
/// API's access log records the route key, never the raw path; every alarm reaches the topic.
#[test]
fn every_log_is_kept_for_the_retention_and_every_alarm_reaches_a_person() {
    let docs = YamlLoader::load_from_str(&repo_file("template.yaml")).expect("template parses");
    let resources = &docs[0]["Resources"];
    let mut functions = 0;
    for (name, resource) in resources.as_hash().expect("Resources") {
        let name = name.as_str().expect("logical id");
        match resource["Type"].as_str() {
            Some("AWS::Serverless::Function") => {
                functions += 1;
                let group = resource["Properties"]["LoggingConfig"]["LogGroup"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name} logs to a log group of the stack"));
                assert_eq!(
                    resources[group]["Properties"]["RetentionInDays"].as_str(),
                    Some("LogRetentionDays"),
                    "{name}"
                );
            }
            Some("AWS::CloudWatch::Alarm") => {
                let actions = resource["Properties"]["AlarmActions"]
                    .as_vec()
                    .unwrap_or_else(|| panic!("{name} has actions"));
                assert_eq!(actions[0].as_str(), Some("AlarmTopic"), "{name}");
            }
            _ => {}
        }
    }
    assert_eq!(functions, function_count());
    let access = resources["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
        .as_str()
        .expect("access logs");
    assert!(access.contains("$context.routeKey"), "{access}");
    for personal in [
        "$context.path",
        "$context.rawPath",
        "querystring",
        "requestOverride",
    ] {
        assert!(!access.contains(personal), "{access}");
    }
}

/// The infrastructure scanner's findings that are skipped, not fixed, each say why, where
/// they are skipped.
#[test]
fn every_skipped_infrastructure_check_says_why() {
    let docs = YamlLoader::load_from_str(&repo_file("template.yaml")).expect("template parses");
    let mut skips = 0;
    for (name, resource) in docs[0]["Resources"].as_hash().expect("Resources") {
        for skip in resource["Metadata"]["checkov"]["skip"]
            .as_vec()
            .into_iter()
            .flatten()
        {
            let id = skip["id"].as_str().unwrap_or_default();
            let reason = skip["comment"].as_str().unwrap_or_default();
            assert!(id.starts_with("CKV_"), "{name:?}: {id}");
            assert!(reason.len() >= 40, "{name:?} skips {id} without a reason");
            skips += 1;
        }
    }
    assert!(skips > 0);
}

#[test]
fn sam_builds_every_function_as_ci_does() {
    let docs = YamlLoader::load_from_str(&repo_file("template.yaml")).expect("template parses");
    let template = &docs[0];
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(globals["Handler"].as_str(), Some("bootstrap"));
    assert_eq!(
        globals["Architectures"]
            .as_vec()
            .map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>()),
        Some(vec!["arm64"])
    );
    let functions_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    for (name, resource) in template["Resources"].as_hash().expect("Resources") {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().expect("logical id");
        let properties = &resource["Properties"];
        assert_eq!(
            resource["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{name}"
        );
        assert_eq!(properties["CodeUri"].as_str(), Some("./"), "{name}");
        for overridden in ["Runtime", "Architectures", "Handler"] {
            assert!(
                properties[overridden].is_badvalue(),
                "{name} sets {overridden}"
            );
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("a binary");
        let manifest = std::fs::read_to_string(functions_dir.join(binary).join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("{name}: no crate functions/{binary}: {e}"));
        assert!(
            manifest.contains(&format!("name = \"{binary}\"")),
            "{name}: functions/{binary} builds no binary {binary}"
        );
        checked += 1;
    }
    // Routeless: the archive worker, the export worker, reconciliation, the purge and the
    // migration.
    assert_eq!(checked, HANDLERS.len() + 5, "every function, routed or not");
}

#[test]
fn the_template_migrates_the_index_version_of_the_code() {
    let docs = YamlLoader::load_from_str(&repo_file("template.yaml")).expect("template parses");
    let migration = &docs[0]["Resources"]["DatabaseIndexes"];
    assert_eq!(migration["Type"].as_str(), Some("Custom::DatabaseIndexes"));
    assert_eq!(
        migration["Properties"]["IndexesVersion"].as_str(),
        Some(shared::db::INDEXES_VERSION.to_string().as_str()),
        "bump IndexesVersion in template.yaml with shared::db::INDEXES_VERSION"
    );
}
