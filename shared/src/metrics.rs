//! Metrics in CloudWatch's embedded metric format: one JSON line on stdout that CloudWatch Logs
//! turns into metrics, with no API call and nothing added to an invocation's latency. Written
//! only on Lambda (`AWS_LAMBDA_FUNCTION_NAME` set), in the namespace `METRICS_NAMESPACE` (the
//! stack's name, set by the template), with the function as the one dimension. Values are
//! counts and sizes, never anything about a person.

use serde_json::{Map, Value, json};

/// Where the template puts the stack's name.
const NAMESPACE_VARIABLE: &str = "METRICS_NAMESPACE";
const DEFAULT_NAMESPACE: &str = "ClientTicketManager";

/// One value of one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metric {
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
}

impl Metric {
    pub fn count(name: &'static str, value: u64) -> Self {
        Self {
            name,
            value: value as f64,
            unit: "Count",
        }
    }

    pub fn bytes(name: &'static str, value: u64) -> Self {
        Self {
            name,
            value: value as f64,
            unit: "Bytes",
        }
    }
}

/// Writes `metrics` as one embedded-metric line, on Lambda.
pub fn emit(metrics: &[Metric]) {
    write_line(metrics, None);
}

/// Writes `metrics` per function and also summed over every function of `service` (one alarm
/// watches them all: the REST routes are fifteen functions).
pub fn emit_for_service(service: &'static str, metrics: &[Metric]) {
    write_line(metrics, Some(service));
}

fn write_line(metrics: &[Metric], service: Option<&str>) {
    let Ok(function) = std::env::var("AWS_LAMBDA_FUNCTION_NAME") else {
        return;
    };
    let namespace =
        std::env::var(NAMESPACE_VARIABLE).unwrap_or_else(|_| DEFAULT_NAMESPACE.to_owned());
    let now = chrono::Utc::now().timestamp_millis();
    let mut text = line(&namespace, &function, metrics, now);
    if let Some(service) = service {
        text = with_service(&text, service);
    }
    println!("{text}");
}

/// `line` with a second dimension set, `Service`, so the metrics are also summed over it.
pub fn with_service(line: &str, service: &str) -> String {
    let Ok(mut root) = serde_json::from_str::<Value>(line) else {
        return line.to_owned();
    };
    if let Some(directive) = root["_aws"]["CloudWatchMetrics"].get_mut(0) {
        directive["Dimensions"] = json!([["Function"], ["Service"]]);
    }
    root["Service"] = service.into();
    root.to_string()
}

/// The embedded-metric JSON of `metrics` of `function` at `timestamp_ms`.
pub fn line(namespace: &str, function: &str, metrics: &[Metric], timestamp_ms: i64) -> String {
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|m| json!({"Name": m.name, "Unit": m.unit}))
        .collect();
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Function"]],
                "Metrics": definitions,
            }],
        }),
    );
    root.insert("Function".into(), function.into());
    for metric in metrics {
        root.insert(metric.name.into(), json!(metric.value));
    }
    Value::Object(root).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_embedded_metric_format_with_the_function_as_dimension() {
        let text = line(
            "ctm-prod",
            "ctm-prod-ArchiveWorker",
            &[
                Metric::count("TicketsArchived", 1),
                Metric::bytes("BytesStored", 9_437_184),
            ],
            1_733_300_000_000,
        );
        let parsed: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(
            parsed,
            json!({
                "_aws": {
                    "Timestamp": 1_733_300_000_000_i64,
                    "CloudWatchMetrics": [{
                        "Namespace": "ctm-prod",
                        "Dimensions": [["Function"]],
                        "Metrics": [
                            {"Name": "TicketsArchived", "Unit": "Count"},
                            {"Name": "BytesStored", "Unit": "Bytes"}
                        ]
                    }]
                },
                "Function": "ctm-prod-ArchiveWorker",
                "TicketsArchived": 1.0,
                "BytesStored": 9_437_184.0
            })
        );
        assert!(!text.contains('\n'), "one line");
    }

    #[test]
    fn a_service_metric_is_also_summed_over_the_service() {
        let text = with_service(
            &line(
                "ctm-prod",
                "ctm-prod-GetTicket",
                &[Metric::count("AccessLogWriteFailures", 1)],
                0,
            ),
            "rest-api",
        );
        let parsed: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(
            parsed["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function"], ["Service"]])
        );
        assert_eq!(parsed["Service"], "rest-api");
        assert_eq!(parsed["Function"], "ctm-prod-GetTicket");
        assert_eq!(parsed["AccessLogWriteFailures"], 1.0);
    }
}
