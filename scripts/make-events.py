#!/usr/bin/env python3
"""Writes events/<binary>.json: one API Gateway HTTP API (payload 2.0) event per HTTP function,
for `reconcile-closed-tickets` and `purge-expired-tickets` the scheduled EventBridge event, for `migrate` the CloudFormation custom resource event of a deploy, for `archive-worker` the SQS event Lambda delivers from the FIFO archive queue, and for
`export-worker` the one it delivers from the export queue, for
`sam local invoke <Function> -e events/<binary>.json` and `cargo lambda invoke --data-file`.

REST events carry the local development token `local-dev-token-0123456789abcdef` (the viewer's page
needs none, so its event has no token); webhook events carry the
Glassix fixtures signed with the documented test API secret `test-api-secret`; the
archive-worker event holds the message the TICKET_STATE_CHANGE webhook queues for the closed
fixture ticket (body `{"ticketId":48213977}`, message group = the ticket id).
Run again after changing a route or a fixture: `python3 scripts/make-events.py`.
"""
import hashlib
import hmac
import json
import pathlib
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "shared" / "fixtures" / "glassix"
DEV_TOKEN = "local-dev-token-0123456789abcdef"
TEST_API_SECRET = "test-api-secret"


def compact_fixture(name):
    return json.dumps(json.loads((FIXTURES / name).read_text("utf-8")), ensure_ascii=False, separators=(",", ":"))


TICKET = {
    "ticketId": 48213977,
    "clientName": "דנה כהן",
    "ticketOpeningDate": "2024-03-10T08:15:42.370Z",
    "protocolType": "WhatsApp",
    "transactions": [{
        "id": 905113201, "dateTime": "2024-03-10T08:15:42.487Z", "type": "Message",
        "text": "שלום, I was charged twice for order A-1042", "senderName": "Dana Cohen", "senderType": "Client",
    }],
    "tags": ["Refund"],
}

# binary: (method, route path, raw path, path parameters, query, body, auth: True = webhook
# signature, False = bearer token, None = none)
EVENTS = {
    "webhook-new-ticket": ("POST", "/webhooks/glassix/new-ticket", None, None, None, compact_fixture("new-ticket-event.json"), True),
    "webhook-ticket-state-change": ("POST", "/webhooks/glassix/ticket-state-change", None, None, None, compact_fixture("ticket-state-change-closed-event.json"), True),
    "create-client": ("POST", "/clients", None, None, None, json.dumps({"identifier": "dana+vip@example.com", "name": "דנה כהן"}, ensure_ascii=False), False),
    "list-clients": ("GET", "/clients", None, None, {"limit": "20"}, None, False),
    "search-tickets": ("GET", "/tickets", None, None, {"q": "refund 4471", "channel": "WhatsApp", "limit": "20"}, None, False),
    "get-client": ("GET", "/clients/{identifier}", "/clients/dana+vip@example.com", {"identifier": "dana+vip@example.com"}, None, None, False),
    "update-client": ("PATCH", "/clients/{identifier}", "/clients/dana+vip@example.com", {"identifier": "dana+vip@example.com"}, None, json.dumps({"name": "Dana Cohen"}), False),
    "delete-client": ("DELETE", "/clients/{identifier}", "/clients/dana+vip@example.com", {"identifier": "dana+vip@example.com"}, None, None, False),
    "create-ticket": ("POST", "/clients/{identifier}/tickets", "/clients/dana+vip@example.com/tickets", {"identifier": "dana+vip@example.com"}, None, json.dumps(TICKET, ensure_ascii=False), False),
    "list-client-tickets": ("GET", "/clients/{identifier}/tickets", "/clients/dana+vip@example.com/tickets", {"identifier": "dana+vip@example.com"}, {"limit": "10"}, None, False),
    "get-ticket": ("GET", "/tickets/{ticketId}", "/tickets/48213977", {"ticketId": "48213977"}, None, None, False),
    "get-attachment": ("GET", "/tickets/{ticketId}/transactions/{transactionId}/attachments/{attachmentId}", "/tickets/48213977/transactions/905113201/attachments/7781204", {"ticketId": "48213977", "transactionId": "905113201", "attachmentId": "7781204"}, None, None, False),
    "list-ticket-transactions": ("GET", "/tickets/{ticketId}/transactions", "/tickets/48213977/transactions", {"ticketId": "48213977"}, {"limit": "50"}, None, False),
    "update-ticket": ("PATCH", "/tickets/{ticketId}", "/tickets/48213977", {"ticketId": "48213977"}, None, json.dumps({"tags": ["Refund", "VIP"]}), False),
    "delete-ticket": ("DELETE", "/tickets/{ticketId}", "/tickets/48213977", {"ticketId": "48213977"}, None, None, False),
    "place-ticket-hold": ("PUT", "/tickets/{ticketId}/legal-hold", "/tickets/48213977/legal-hold", {"ticketId": "48213977"}, None, json.dumps({"reason": "Dispute 2026-117 (chargeback)", "until": "2030-12-31T23:59:59Z"}), False),
    "lift-ticket-hold": ("DELETE", "/tickets/{ticketId}/legal-hold", "/tickets/48213977/legal-hold", {"ticketId": "48213977"}, None, None, False),
    "place-client-hold": ("PUT", "/clients/{identifier}/legal-hold", "/clients/dana+vip@example.com/legal-hold", {"identifier": "dana+vip@example.com"}, None, json.dumps({"reason": "Regulator's request 2026-04"}), False),
    "request-client-export": ("POST", "/clients/{identifier}/exports", "/clients/dana+vip@example.com/exports", {"identifier": "dana+vip@example.com"}, None, None, False),
    "get-export": ("GET", "/exports/{exportId}", "/exports/65f0c0ffee42a1b2c3d4e5f6", {"exportId": "65f0c0ffee42a1b2c3d4e5f6"}, None, None, False),
    "download-export": ("GET", "/exports/{exportId}/file", "/exports/65f0c0ffee42a1b2c3d4e5f6/file", {"exportId": "65f0c0ffee42a1b2c3d4e5f6"}, None, None, False),
    "lift-client-hold": ("DELETE", "/clients/{identifier}/legal-hold", "/clients/dana+vip@example.com/legal-hold", {"identifier": "dana+vip@example.com"}, None, None, False),
    "get-me": ("GET", "/me", None, None, None, None, False),
    "list-access-log": ("GET", "/access-log", None, None, {"ticketId": "48213977", "limit": "20"}, None, False),
    "viewer": ("GET", "/", None, None, None, None, None),
}


def event(method, route, raw_path, path_params, query, body, webhook):
    raw_path = raw_path or route
    headers = {"host": "abc123.execute-api.eu-west-1.amazonaws.com", "user-agent": "curl/8.5.0", "accept": "application/json"}
    if body is not None:
        headers["content-type"] = "application/json"
    if webhook:
        headers["x-hub-signature"] = "sha1=" + hmac.new(TEST_API_SECRET.encode(), body.encode("utf-8"), hashlib.sha1).hexdigest()
        headers["x-glassix-request-count"] = "1"
    elif webhook is False:
        headers["authorization"] = f"Bearer {DEV_TOKEN}"
    # Encoded as API Gateway hands it over; `queryStringParameters` holds the decoded values.
    raw_query = urllib.parse.urlencode(query or {}, quote_via=urllib.parse.quote)
    e = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.10", "userAgent": "curl/8.5.0"},
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "10/Mar/2024:09:02:12 +0000",
            "timeEpoch": 1710061332000,
        },
        "isBase64Encoded": False,
    }
    if query:
        e["queryStringParameters"] = query
    if path_params:
        e["pathParameters"] = path_params
    if body is not None:
        e["body"] = body
    return e


def sqs_event():
    """One record as Lambda delivers it from a FIFO queue. The ids, receipt handle and ARNs are
    made up but shaped like real ones; the timestamps follow the closed-ticket delivery."""
    closed = json.loads((FIXTURES / "ticket-state-change-closed-event.json").read_text("utf-8"))
    ticket_id = closed["changes"][0]["ticketId"]
    body = json.dumps({"ticketId": ticket_id}, separators=(",", ":"))
    # Illustrative, in the webhook's shape `<ticket id>-<SHA-256 hex>` (the webhook hashes the
    # delivery's change); the worker does not read it.
    dedup_id = f"{ticket_id}-" + hashlib.sha256(f"{ticket_id}:{closed['key']}".encode()).hexdigest()
    sent = 1710061332391  # the webhook request's timeEpoch plus its handling time
    queue_arn = "arn:aws:sqs:eu-west-1:123456789012:client-ticket-manager-ArchiveQueue-Q2b7TfWm0Rk8.fifo"
    return {"Records": [{
        "messageId": "0f3e6c52-8d1a-4b7e-9c2f-5a61d8e4b937",
        "receiptHandle": "AQEBp5m1Qw0lX2kqzJm7vN3pL8sYtR4cF6hG9dK2aE1oU7iB0nM5xV8zC3bT6yW4qS1eD9fH2jK7lP0uI5oA3sZ8xC1vB6nM4qW7eR2tY9uI0oP5aS3dF8gH1jK6lZ4xC7vB2nM9qW0eR5tY3uI8oP1aS6dF4gH7jK==",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(sent),
            "SequenceNumber": "18884911284760821504",
            "MessageGroupId": str(ticket_id),
            "SenderId": "AROAZQ3DPT6RHEXAMPLE:client-ticket-manager-WebhookTicketStateChangeFu-Xk3p9QmT2bLs",
            "MessageDeduplicationId": dedup_id,
            "ApproximateFirstReceiveTimestamp": str(sent + 27),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode("utf-8")).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "eu-west-1",
    }]}


def export_sqs_event():
    """The message `request-client-export` queues: body `{"exportId": …}`, its own message
    group and deduplication id (`export-<id>`)."""
    export_id = "65f0c0ffee42a1b2c3d4e5f6"
    body = json.dumps({"exportId": export_id}, separators=(",", ":"))
    sent = 1710061332391
    return {"Records": [{
        "messageId": "6a1d2c3b-4e5f-4a7b-8c9d-0e1f2a3b4c5d",
        "receiptHandle": "AQEBz8x1Qw0lX2kqzJm7vN3pL8sYtR4cF6hG9dK2aE1oU7iB0nM5xV8zC3bT6yW4qS1eD9fH2jK7lP0uI5oA3sZ8xC1vB6nM4qW7eR2tY9uI0oP5aS3dF8gH1jK6lZ4xC7vB2nM9qW0eR5tY3uI8oP1aS6dF4gH7jK==",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(sent),
            "SequenceNumber": "18884911284760821505",
            "MessageGroupId": f"export-{export_id}",
            "SenderId": "AROAZQ3DPT6RHEXAMPLE:client-ticket-manager-RequestClientExportFu-Pq4r8StU1vWx",
            "MessageDeduplicationId": f"export-{export_id}",
            "ApproximateFirstReceiveTimestamp": str(sent + 19),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode("utf-8")).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:client-ticket-manager-ExportQueue-Lm3n5OpQ7rS9.fifo",
        "awsRegion": "eu-west-1",
    }]}


def scheduled_event(rule="ReconcileSchedule"):
    """The EventBridge event a `rate(...)` schedule delivers (reconcile-closed-tickets,
    purge-expired-tickets)."""
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2024-03-10T09:15:00Z",
        "region": "eu-west-1",
        "resources": [f"arn:aws:events:eu-west-1:123456789012:rule/client-ticket-manager-{rule}"],
        "detail": {},
    }


def custom_resource_event():
    """The CloudFormation custom resource event a deploy sends to migrate (DatabaseIndexes).
    Its ResponseURL is a pre-signed S3 URL in real life; tests point it at a local server."""
    return {
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:client-ticket-manager-MigrateFunction",
        "ResponseURL": "https://cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/example",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/client-ticket-manager/5b4f4f80-d7a9-11ee-9d3c-0a1b2c3d4e5f",
        "RequestId": "8d1c3f2e-7a0b-4c5d-9e6f-1a2b3c4d5e6f",
        "ResourceType": "Custom::DatabaseIndexes",
        "LogicalResourceId": "DatabaseIndexes",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:client-ticket-manager-MigrateFunction",
            "IndexesVersion": "3",
        },
    }


def main():
    out = ROOT / "events"
    out.mkdir(exist_ok=True)
    for binary, spec in EVENTS.items():
        (out / f"{binary}.json").write_text(json.dumps(event(*spec), ensure_ascii=False, indent=2) + "\n", "utf-8")
    (out / "archive-worker.json").write_text(json.dumps(sqs_event(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    (out / "export-worker.json").write_text(json.dumps(export_sqs_event(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    (out / "reconcile-closed-tickets.json").write_text(json.dumps(scheduled_event(), indent=2) + "\n", "utf-8")
    (out / "purge-expired-tickets.json").write_text(json.dumps(scheduled_event("PurgeSchedule"), indent=2) + "\n", "utf-8")
    (out / "migrate.json").write_text(json.dumps(custom_resource_event(), indent=2) + "\n", "utf-8")
    print(f"wrote {len(EVENTS) + 5} events to {out}")


if __name__ == "__main__":
    main()
