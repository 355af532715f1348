//! What the viewer's function answers: the page and its assets, with cache and security
//! headers on every answer, and no token asked for.

use lambda_http::{Body, Response};
use sha2::{Digest, Sha256};
use shared::testing::requests::{ApiRequest, error_code};
use viewer::{Viewer, assets, file_origins};

fn page(viewer: &Viewer) -> Response<Body> {
    viewer.handle(&ApiRequest::anonymous("GET", "/").build())
}

fn asset(viewer: &Viewer, name: &str) -> Response<Body> {
    viewer.handle(
        &ApiRequest::anonymous("GET", &format!("/viewer/{name}"))
            .path("asset", name)
            .build(),
    )
}

fn header<'a>(response: &'a Response<Body>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

fn text(response: &Response<Body>) -> String {
    String::from_utf8(response.body().to_vec()).expect("a text body")
}

/// The directives of a Content-Security-Policy, by name.
fn directives(policy: &str) -> std::collections::HashMap<String, Vec<String>> {
    policy
        .split(';')
        .filter_map(|directive| {
            let mut words = directive.split_whitespace();
            let name = words.next()?.to_owned();
            Some((name, words.map(str::to_owned).collect()))
        })
        .collect()
}

fn assert_secured(response: &Response<Body>, what: &str) {
    let policy = directives(header(response, "content-security-policy"));
    assert_eq!(policy["default-src"], ["'self'"], "{what}");
    assert_eq!(
        policy["script-src"],
        ["'self'"],
        "{what}: scripts from this origin only"
    );
    assert_eq!(policy["style-src"], ["'self'"], "{what}: no inline style");
    assert_eq!(policy["frame-ancestors"], ["'none'"], "{what}");
    assert_eq!(policy["object-src"], ["'none'"], "{what}");
    assert_eq!(policy["base-uri"], ["'none'"], "{what}");
    for (name, sources) in &policy {
        assert!(
            !sources
                .iter()
                .any(|s| s.contains("unsafe") || s == "*" || s == "data:"),
            "{what}: {name} allows {sources:?}"
        );
    }
    assert_eq!(
        header(response, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(header(response, "referrer-policy"), "no-referrer", "{what}");
    assert_eq!(header(response, "x-frame-options"), "DENY", "{what}");
}

#[test]
fn the_page_is_served_without_a_token_never_cached_and_secured() {
    let viewer = Viewer::new(&[]);

    let response = page(&viewer);

    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "text/html; charset=utf-8"
    );
    assert_eq!(header(&response, "cache-control"), "no-cache");
    assert_secured(&response, "page");
    assert!(text(&response).starts_with("<!doctype html>"));
}

#[test]
fn the_page_loads_every_asset_by_its_content_hash_and_nothing_inline() {
    let page = text(&page(&Viewer::new(&[])));

    for asset in assets() {
        let (stem, rest) = asset.name.split_once('.').expect("stem.hash.ext");
        let (hash, _extension) = rest.split_once('.').expect("hash.ext");
        let digest = Sha256::digest(asset.body.as_bytes());
        let expected: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hash, expected, "{stem}: the name carries its content hash");
        assert!(
            page.contains(&format!("\"/viewer/{}\"", asset.name)),
            "the page loads {}",
            asset.name
        );
    }
    // Every script has a src, and no style is inline: the CSP would refuse them anyway.
    assert_eq!(
        page.matches("<script").count(),
        page.matches("<script type=\"module\" src=\"/viewer/")
            .count()
    );
    assert!(!page.contains("<style") && !page.contains("style="));
    assert!(
        !page
            .split_whitespace()
            .any(|word| word.starts_with("on") && word.contains('=')),
        "no inline event handler"
    );
}

#[test]
fn assets_are_immutable_with_their_type_and_secured() {
    let viewer = Viewer::new(&[]);
    let mut types = Vec::new();
    for served in assets() {
        let response = asset(&viewer, served.name);

        assert_eq!(response.status(), 200, "{}", served.name);
        assert_eq!(
            header(&response, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert_secured(&response, served.name);
        assert_eq!(text(&response), served.body);
        types.push(header(&response, "content-type").to_owned());
    }
    assert!(types.contains(&"text/javascript; charset=utf-8".to_owned()));
    assert!(types.contains(&"text/css; charset=utf-8".to_owned()));
}

#[test]
fn an_unknown_or_stale_asset_is_404_and_not_cached() {
    let viewer = Viewer::new(&[]);
    for name in [
        "app.js",
        "app.000000000000.js",
        "../Cargo.toml",
        "index.html",
    ] {
        let response = asset(&viewer, name);

        assert_eq!(response.status(), 404, "{name}");
        assert_eq!(error_code(&response), "not_found");
        assert_eq!(header(&response, "cache-control"), "no-cache");
        assert_secured(&response, name);
    }
}

#[test]
fn the_whole_viewer_is_under_100_kb_even_before_compression() {
    // gzip only shrinks text this size, so the raw total bounds the gzipped one.
    let total: usize = viewer::PAGE.len() + assets().iter().map(|a| a.body.len()).sum::<usize>();
    assert!(total <= 100 * 1024, "{total} bytes");
}

#[test]
fn downloads_may_follow_the_attachment_route_to_the_bucket_only() {
    let deployed = file_origins(Some("ctm-files-abc"), Some("eu-west-1"), None);
    assert_eq!(
        deployed,
        [
            "https://ctm-files-abc.s3.eu-west-1.amazonaws.com",
            "https://ctm-files-abc.s3.amazonaws.com"
        ]
    );
    assert_eq!(
        file_origins(Some("b"), Some("us-east-1"), Some("http://127.0.0.1:5000/")),
        ["http://127.0.0.1:5000"]
    );
    assert!(file_origins(None, Some("eu-west-1"), None).is_empty());

    let response = page(&Viewer::new(&deployed));
    let policy = directives(header(&response, "content-security-policy"));
    assert_eq!(
        policy["connect-src"],
        [
            "'self'",
            "https://ctm-files-abc.s3.eu-west-1.amazonaws.com",
            "https://ctm-files-abc.s3.amazonaws.com"
        ]
    );
    assert_secured(&response, "page with a bucket");
}
