//! The deployed functions as `template.yaml` describes them: binary, memory, timeout and the
//! environment Lambda gives each one (the globals, its own variables, the logging config).

use std::collections::BTreeMap;

use yaml_rust2::{Yaml, YamlLoader};

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    pub logical_id: String,
    pub binary: String,
    pub memory_mb: i64,
    pub timeout_s: i64,
    /// The template's variables, references resolved; Lambda's own variables are added at launch.
    pub env: BTreeMap<String, String>,
}

/// Every `AWS::Serverless::Function`, in template order. `provided` resolves the references
/// (`!Ref X`) to resources the bench stands in for (the secret, the queue, the bucket); a
/// reference to a parameter takes the parameter's default.
pub fn functions(
    text: &str,
    provided: &BTreeMap<String, String>,
) -> Result<Vec<FunctionSpec>, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("template.yaml: {e}"))?;
    let template = docs.first().ok_or("template.yaml is empty")?;
    let resources = template["Resources"]
        .as_hash()
        .ok_or("template.yaml has no Resources")?;
    let globals = &template["Globals"]["Function"];
    // The YAML reader drops tags: `!Ref ArchiveQueue` reads as "ArchiveQueue". A value that
    // names a parameter or a resource is therefore a reference; no literal value does.
    let resolve = |value: &Yaml, what: &str| -> Result<String, String> {
        let text = scalar(value).ok_or_else(|| format!("{what} is not a scalar"))?;
        if let Some(resolved) = provided.get(&text) {
            return Ok(resolved.clone());
        }
        let parameter = &template["Parameters"][text.as_str()];
        if !parameter.is_badvalue() {
            return scalar(&parameter["Default"])
                .ok_or_else(|| format!("{what}: parameter {text} has no default"));
        }
        if resources.contains_key(&Yaml::String(text.clone())) {
            return Err(format!(
                "{what}: the bench stands in for no resource {text}"
            ));
        }
        Ok(text)
    };
    let number = |resource: &Yaml, key: &str| -> Result<i64, String> {
        resource["Properties"][key]
            .as_i64()
            .or_else(|| globals[key].as_i64())
            .ok_or_else(|| format!("no {key} for a function"))
    };

    let mut specs = Vec::new();
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let logical_id = name.as_str().unwrap_or("?").to_owned();
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .ok_or_else(|| format!("{logical_id} names no binary"))?
            .to_owned();
        let mut env = BTreeMap::new();
        let logging = &globals["LoggingConfig"];
        if !logging["LogFormat"].is_badvalue() {
            env.insert(
                "AWS_LAMBDA_LOG_FORMAT".to_owned(),
                resolve(&logging["LogFormat"], "LogFormat")?,
            );
        }
        if !logging["ApplicationLogLevel"].is_badvalue() {
            env.insert(
                "AWS_LAMBDA_LOG_LEVEL".to_owned(),
                resolve(&logging["ApplicationLogLevel"], "ApplicationLogLevel")?,
            );
        }
        for variables in [
            &globals["Environment"]["Variables"],
            &resource["Properties"]["Environment"]["Variables"],
        ] {
            for (key, value) in variables.as_hash().into_iter().flatten() {
                let key = key.as_str().ok_or("a variable name is not a string")?;
                let value = resolve(value, &format!("{logical_id} {key}"))?;
                env.insert(key.to_owned(), value);
            }
        }
        specs.push(FunctionSpec {
            memory_mb: number(resource, "MemorySize")?,
            timeout_s: number(resource, "Timeout")?,
            logical_id,
            binary,
            env,
        });
    }
    Ok(specs)
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

    /// The resources the bench stands in for; a template that references another one fails here
    /// rather than half-way through a benchmark run.
    fn provided() -> BTreeMap<String, String> {
        [
            (
                "AppSecretArn",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench",
            ),
            (
                "ArchiveQueue",
                "http://127.0.0.1:1/123456789012/archive.fifo",
            ),
            ("ArchiveFilesBucket", "bench-files"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn every_function_of_the_template_gets_its_deployed_environment() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"),
        )
        .expect("template.yaml");
        let specs = functions(&text, &provided()).expect("every reference resolves");
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
            provided()["ArchiveQueue"]
        );
        assert_eq!(
            state_change.env["APP_SECRET_ARN"],
            provided()["AppSecretArn"]
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
        let provided = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let specs =
            functions(text, &provided(&[("Secret", "arn"), ("Queue", "url")])).expect("resolves");
        assert_eq!(specs.len(), 1);
        let f = &specs[0];
        assert_eq!((f.memory_mb, f.timeout_s), (256, 3));
        assert_eq!(f.env["AWS_LAMBDA_LOG_LEVEL"], "WARN");
        assert_eq!(f.env["APP_SECRET_ARN"], "arn");
        assert_eq!(f.env["QUEUE"], "url");
        assert_eq!(f.env["BUDGET"], "4500");

        let missing = functions(text, &provided(&[("Secret", "arn")])).expect_err("no queue");
        assert!(missing.contains("Queue"), "{missing}");
    }
}
