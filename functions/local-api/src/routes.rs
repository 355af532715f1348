//! The route table, read from `template.yaml` (`shared::template`) so the local API and the
//! deployment cannot drift, and how a request finds its route.

use std::collections::HashMap;

pub use shared::template::{Route, TemplateError, function_binaries, routes as from_template};

/// Finds the route for a request and extracts its path parameters, percent-decoded as API
/// Gateway HTTP APIs hand them to the Lambda.
pub fn find<'a>(routes: &'a [Route], method: &str, path: &str) -> Match<'a> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut allowed = Vec::new();
    for route in routes {
        let Some(params) = match_path(&route.path, &segments) else {
            continue;
        };
        if route.method == method {
            return Match::Found(route, params);
        }
        allowed.push(route.method.as_str());
    }
    if allowed.is_empty() {
        Match::NotFound
    } else {
        Match::WrongMethod(allowed.join(", "))
    }
}

pub enum Match<'a> {
    Found(&'a Route, HashMap<String, String>),
    /// The path exists for these methods (the value of an `Allow` header).
    WrongMethod(String),
    NotFound,
}

fn match_path(template: &str, segments: &[&str]) -> Option<HashMap<String, String>> {
    // Trimmed like the request path, so that the root route `/` matches `/`.
    let parts: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = HashMap::new();
    for (part, segment) in parts.iter().zip(segments) {
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !segment.is_empty() => {
                let decoded = percent_encoding::percent_decode_str(segment)
                    .decode_utf8()
                    .ok()?;
                params.insert(name.to_owned(), decoded.into_owned());
            }
            Some(_) => return None,
            None if part == segment => {}
            None => return None,
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Vec<Route> {
        from_template(include_str!("../../../template.yaml")).expect("template parses")
    }

    #[test]
    fn paths_match_with_their_parameters() {
        let routes = routes();
        match find(&routes, "GET", "/clients/dana%2Bvip%40example.com/tickets") {
            Match::Found(route, params) => {
                assert_eq!(route.binary, "list-client-tickets");
                assert_eq!(params["identifier"], "dana+vip@example.com");
            }
            _ => panic!("no match"),
        }
        assert!(matches!(
            find(&routes, "PUT", "/clients"),
            Match::WrongMethod(allowed) if allowed == "GET, POST"
        ));
        assert!(matches!(find(&routes, "GET", "/nope"), Match::NotFound));
        assert!(matches!(
            find(&routes, "GET", "/clients//tickets"),
            Match::NotFound
        ));
        match find(&routes, "GET", "/") {
            Match::Found(route, params) => {
                assert_eq!(route.binary, "viewer");
                assert!(params.is_empty());
            }
            _ => panic!("no match for the root"),
        }
        match find(&routes, "GET", "/viewer/app.0123456789ab.js") {
            Match::Found(route, params) => {
                assert_eq!(route.binary, "viewer");
                assert_eq!(params["asset"], "app.0123456789ab.js");
            }
            _ => panic!("no match for an asset"),
        }
        assert!(matches!(
            find(&routes, "POST", "/"),
            Match::WrongMethod(allowed) if allowed == "GET"
        ));
    }
}
