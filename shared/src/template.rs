//! `template.yaml`, read once for every tool that must agree with the deployment (feature
//! `template`, never in a Lambda): the HTTP routes `local-api` serves, the binaries CI builds,
//! and each function's memory, timeout and environment as Lambda gives them (the bench).
//!
//! Every `AWS::Serverless::Function` names its binary (`Metadata.BuildProperties.Binary`); its
//! `HttpApi` events give method and path.

use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::{Yaml, YamlLoader};

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(String),
    #[error("template.yaml: {0}")]
    Shape(String),
}

/// One HTTP API route.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: String,
    /// API Gateway path template, e.g. `/clients/{identifier}`.
    pub path: String,
    /// The function's binary, which names its handler.
    pub binary: String,
    /// What the route requires of a token: the function's `ROUTE_SCOPE` variable, if any.
    pub scope: Option<String>,
}

impl Route {
    /// API Gateway's name of the route, e.g. `GET /tickets/{ticketId}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A deployed function as Lambda runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    pub logical_id: String,
    pub binary: String,
    pub memory_mb: i64,
    pub timeout_s: i64,
    /// The template's variables and logging settings (as `AWS_LAMBDA_LOG_*`), references
    /// resolved; Lambda's own variables are the launcher's to add.
    pub env: BTreeMap<String, String>,
}

/// Every HTTP API route of every function in the template, sorted.
pub fn routes(text: &str) -> Result<Vec<Route>, TemplateError> {
    Template::parse(text)?.routes()
}

/// The binary of every function in the template, routes or not (the SQS worker has none).
pub fn function_binaries(text: &str) -> Result<BTreeSet<String>, TemplateError> {
    Ok(Template::parse(text)?
        .functions()?
        .into_iter()
        .map(|function| function.binary.to_owned())
        .collect())
}

/// Every function, in template order. `provided` resolves the references (`!Ref X`) to
/// resources the caller stands in for (a secret, a queue, a bucket); a reference to a
/// parameter takes the parameter's default.
pub fn function_specs(
    text: &str,
    provided: &BTreeMap<String, String>,
) -> Result<Vec<FunctionSpec>, TemplateError> {
    Template::parse(text)?.function_specs(provided)
}

struct Template {
    root: Yaml,
}

/// A function resource and the names it goes by.
struct Function<'a> {
    logical_id: &'a str,
    binary: &'a str,
    resource: &'a Yaml,
}

fn shape(message: impl Into<String>) -> TemplateError {
    TemplateError::Shape(message.into())
}

impl Template {
    fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut docs =
            YamlLoader::load_from_str(text).map_err(|e| TemplateError::Yaml(e.to_string()))?;
        if docs.is_empty() {
            return Err(shape("empty document"));
        }
        Ok(Self {
            root: docs.swap_remove(0),
        })
    }

    fn resources(&self) -> Result<&yaml_rust2::yaml::Hash, TemplateError> {
        self.root["Resources"]
            .as_hash()
            .ok_or_else(|| shape("no Resources"))
    }

    fn functions(&self) -> Result<Vec<Function<'_>>, TemplateError> {
        let mut functions = Vec::new();
        for (name, resource) in self.resources()? {
            if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
                continue;
            }
            let logical_id = name.as_str().unwrap_or("?");
            let binary = resource["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .ok_or_else(|| {
                    shape(format!(
                        "{logical_id} names no Metadata.BuildProperties.Binary"
                    ))
                })?;
            functions.push(Function {
                logical_id,
                binary,
                resource,
            });
        }
        Ok(functions)
    }

    fn routes(&self) -> Result<Vec<Route>, TemplateError> {
        let mut routes = Vec::new();
        for function in self.functions()? {
            let events = function.resource["Properties"]["Events"].as_hash();
            for event in events.into_iter().flat_map(|events| events.values()) {
                if event["Type"].as_str() != Some("HttpApi") {
                    continue;
                }
                let property = |key: &str| {
                    event["Properties"][key].as_str().ok_or_else(|| {
                        shape(format!(
                            "{}: an HttpApi event has no {key}",
                            function.logical_id
                        ))
                    })
                };
                routes.push(Route {
                    method: property("Method")?.to_ascii_uppercase(),
                    path: property("Path")?.to_owned(),
                    binary: function.binary.to_owned(),
                    scope: function.resource["Properties"]["Environment"]["Variables"]
                        [crate::keys::ROUTE_SCOPE]
                        .as_str()
                        .map(str::to_owned),
                });
            }
        }
        routes.sort();
        Ok(routes)
    }

    fn function_specs(
        &self,
        provided: &BTreeMap<String, String>,
    ) -> Result<Vec<FunctionSpec>, TemplateError> {
        let globals = &self.root["Globals"]["Function"];
        let logging = &globals["LoggingConfig"];
        let mut specs = Vec::new();
        for Function {
            logical_id,
            binary,
            resource,
        } in self.functions()?
        {
            let mut env = BTreeMap::new();
            for (variable, setting) in [
                ("AWS_LAMBDA_LOG_FORMAT", "LogFormat"),
                ("AWS_LAMBDA_LOG_LEVEL", "ApplicationLogLevel"),
            ] {
                if !logging[setting].is_badvalue() {
                    let value = self.resolve(&logging[setting], setting, provided)?;
                    env.insert(variable.to_owned(), value);
                }
            }
            for variables in [
                &globals["Environment"]["Variables"],
                &resource["Properties"]["Environment"]["Variables"],
            ] {
                for (key, value) in variables.as_hash().into_iter().flatten() {
                    let key = key
                        .as_str()
                        .ok_or_else(|| shape("a variable name is not a string"))?;
                    let value = self.resolve(value, &format!("{logical_id} {key}"), provided)?;
                    env.insert(key.to_owned(), value);
                }
            }
            let number = |key: &str| {
                resource["Properties"][key]
                    .as_i64()
                    .or_else(|| globals[key].as_i64())
                    .ok_or_else(|| shape(format!("{logical_id}: no {key}")))
            };
            specs.push(FunctionSpec {
                memory_mb: number("MemorySize")?,
                timeout_s: number("Timeout")?,
                logical_id: logical_id.to_owned(),
                binary: binary.to_owned(),
                env,
            });
        }
        Ok(specs)
    }

    /// A value, or what it refers to. The YAML reader drops tags (`!Ref ArchiveQueue` reads as
    /// "ArchiveQueue"): a value that names a parameter or a resource is therefore a reference;
    /// no literal value does.
    fn resolve(
        &self,
        value: &Yaml,
        what: &str,
        provided: &BTreeMap<String, String>,
    ) -> Result<String, TemplateError> {
        let text = scalar(value).ok_or_else(|| shape(format!("{what} is not a scalar")))?;
        if let Some(resolved) = provided.get(&text) {
            return Ok(resolved.clone());
        }
        let parameter = &self.root["Parameters"][text.as_str()];
        if !parameter.is_badvalue() {
            return scalar(&parameter["Default"])
                .ok_or_else(|| shape(format!("{what}: parameter {text} has no default")));
        }
        if self.resources()?.contains_key(&Yaml::String(text.clone())) {
            return Err(shape(format!(
                "{what}: nothing stands in for the resource {text}"
            )));
        }
        Ok(text)
    }
}

fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(text) | Yaml::Real(text) => Some(text.clone()),
        Yaml::Integer(n) => Some(n.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployed_template() -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"),
        )
        .expect("template.yaml")
    }

    fn provided(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The resources a launcher of the deployed template stands in for; a template that
    /// references another one fails here rather than half-way through a benchmark run.
    fn stand_ins() -> BTreeMap<String, String> {
        provided(&[
            (
                "GlassixSecretArn",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:glassix",
            ),
            (
                "ApiSecretArn",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:api",
            ),
            (
                "ArchiveQueue",
                "http://127.0.0.1:1/123456789012/archive.fifo",
            ),
            ("ArchiveFilesBucket", "bench-files"),
            (
                "ExportQueue",
                "http://127.0.0.1:1/123456789012/exports.fifo",
            ),
        ])
    }

    #[test]
    fn every_function_of_the_template_gets_its_deployed_environment() {
        let specs =
            function_specs(&deployed_template(), &stand_ins()).expect("every reference resolves");
        assert!(specs.len() >= 16, "{} functions", specs.len());
        for spec in &specs {
            assert_eq!(spec.env["AWS_LAMBDA_LOG_FORMAT"], "JSON", "{}", spec.binary);
            assert!(
                spec.memory_mb >= 128 && spec.timeout_s >= 1,
                "{}",
                spec.binary
            );
        }
        let state_change = specs
            .iter()
            .find(|s| s.binary == "webhook-ticket-state-change")
            .expect("the state-change webhook");
        assert_eq!(
            state_change.env["ARCHIVE_QUEUE_URL"],
            stand_ins()["ArchiveQueue"]
        );
        assert_eq!(
            state_change.env["APP_SECRET_ARN"],
            stand_ins()["GlassixSecretArn"]
        );
        assert_eq!(state_change.env["WEBHOOK_BUDGET_MS"], "4500");
    }

    #[test]
    fn references_resolve_to_what_is_provided_then_to_parameter_defaults() {
        let text = r#"
Parameters:
  Level: {Type: String, Default: WARN}
  Secret: {Type: String}
Globals:
  Function:
    MemorySize: 256
    Timeout: 10
    LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: !Ref Level}
    Environment: {Variables: {APP_SECRET_ARN: !Ref Secret}}
Resources:
  Queue: {Type: AWS::SQS::Queue}
  F:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: f}}
    Properties:
      Timeout: 3
      Environment: {Variables: {BUDGET: "4500", QUEUE: !Ref Queue}}
"#;
        let specs = function_specs(text, &provided(&[("Secret", "arn"), ("Queue", "url")]))
            .expect("resolves");
        assert_eq!(specs.len(), 1);
        let f = &specs[0];
        assert_eq!((f.memory_mb, f.timeout_s), (256, 3));
        assert_eq!(f.env["AWS_LAMBDA_LOG_LEVEL"], "WARN");
        assert_eq!(f.env["APP_SECRET_ARN"], "arn");
        assert_eq!(f.env["QUEUE"], "url");
        assert_eq!(f.env["BUDGET"], "4500");

        let missing = function_specs(text, &provided(&[("Secret", "arn")]))
            .expect_err("no queue")
            .to_string();
        assert!(missing.contains("Queue"), "{missing}");
    }

    #[test]
    fn routes_and_binaries_come_from_every_function_and_its_http_events() {
        let text = r#"
Resources:
  Api:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: get-client}}
    Properties:
      Environment: {Variables: {ROUTE_SCOPE: read}}
      Events:
        Get: {Type: HttpApi, Properties: {Method: get, Path: "/clients/{identifier}"}}
        Queue: {Type: SQS, Properties: {Queue: q}}
  Worker:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: archive-worker}}
  Bucket: {Type: AWS::S3::Bucket}
"#;
        assert_eq!(
            routes(text).expect("routes"),
            vec![Route {
                method: "GET".into(),
                path: "/clients/{identifier}".into(),
                binary: "get-client".into(),
                scope: Some("read".into()),
            }]
        );
        assert_eq!(
            function_binaries(text).expect("binaries"),
            BTreeSet::from(["archive-worker".to_owned(), "get-client".to_owned()])
        );
        let deployed = routes(&deployed_template()).expect("the deployed template parses");
        assert!(
            deployed
                .iter()
                .any(|r| r.method == "GET" && r.path == "/" && r.binary == "viewer"),
            "{deployed:?}"
        );
    }

    #[test]
    fn a_function_without_its_binary_or_a_route_without_its_path_is_refused() {
        let no_binary = "Resources:\n  F: {Type: AWS::Serverless::Function}\n";
        let refused = function_binaries(no_binary).expect_err("no binary");
        assert!(refused.to_string().contains("F names no"), "{refused}");
        let no_path = r#"
Resources:
  F:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: f}}
    Properties: {Events: {E: {Type: HttpApi, Properties: {Method: GET}}}}
"#;
        let refused = routes(no_path).expect_err("no path");
        assert!(refused.to_string().contains("has no Path"), "{refused}");
        assert!(matches!(routes("a: [1, 2"), Err(TemplateError::Yaml(_))));
    }
}
