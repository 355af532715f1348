//! The route table, read from `template.yaml` so the local API and the deployment cannot drift:
//! every `AWS::Serverless::Function` names its binary (`Metadata.BuildProperties.Binary`) and
//! its `HttpApi` events give method and path.

use std::collections::{BTreeSet, HashMap};

use yaml_rust2::{Yaml, YamlLoader};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: String,
    /// API Gateway path template, e.g. `/clients/{identifier}`.
    pub path: String,
    /// The function's binary, which names its handler.
    pub binary: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(String),
    #[error("template.yaml: {0}")]
    Shape(String),
}

/// Every HTTP API route of every function in the template, sorted.
pub fn from_template(text: &str) -> Result<Vec<Route>, TemplateError> {
    let mut routes = Vec::new();
    for_each_function(text, |name, binary, resource| {
        let events = resource["Properties"]["Events"]
            .as_hash()
            .into_iter()
            .flatten();
        for (_, event) in events {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let field = |key: &str| {
                event["Properties"][key]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        TemplateError::Shape(format!("{name}: an HttpApi event has no {key}"))
                    })
            };
            routes.push(Route {
                method: field("Method")?.to_ascii_uppercase(),
                path: field("Path")?,
                binary: binary.to_owned(),
            });
        }
        Ok(())
    })?;
    routes.sort();
    Ok(routes)
}

/// The binary of every function in the template, routes or not (the SQS worker has none).
pub fn function_binaries(text: &str) -> Result<BTreeSet<String>, TemplateError> {
    let mut binaries = BTreeSet::new();
    for_each_function(text, |_, binary, _| {
        binaries.insert(binary.to_owned());
        Ok(())
    })?;
    Ok(binaries)
}

/// Calls `visit` with the logical id, binary and resource of every `AWS::Serverless::Function`.
fn for_each_function(
    text: &str,
    mut visit: impl FnMut(&str, &str, &Yaml) -> Result<(), TemplateError>,
) -> Result<(), TemplateError> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| TemplateError::Yaml(e.to_string()))?;
    let template = docs
        .first()
        .ok_or_else(|| TemplateError::Shape("empty document".into()))?;
    let resources = template["Resources"]
        .as_hash()
        .ok_or_else(|| TemplateError::Shape("no Resources".into()))?;
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap_or("?");
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .ok_or_else(|| {
                TemplateError::Shape(format!("{name} names no Metadata.BuildProperties.Binary"))
            })?;
        visit(name, binary, resource)?;
    }
    Ok(())
}

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
