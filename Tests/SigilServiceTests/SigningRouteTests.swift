import Foundation
import SigilStore
import SigilTestSupport
import Testing

@Suite("POST /v1/sign and /v1/presign")
struct SigningRouteTests {
    @Test(
        "sign answers the AWS test suite's get-vanilla signature, as sigil sign --json prints it",
        arguments: TestStore.all)
    func vanilla(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            let answer = try await service.send(
                "POST", "/v1/sign", as: .basic("alice"),
                json: ["method": "GET", "url": "callout:Example/", "at": "2015-08-30T12:36:00Z"])
            #expect(answer.status == 200, "\(answer.text)")
            let json = try #require(try answer.json() as? [String: Any])
            #expect(Set(json.keys) == ["method", "url", "headers"])
            #expect(json["url"] as? String == "https://example.amazonaws.com/")
            let headers = try #require(json["headers"] as? [[String]])
            #expect(
                headers.first { $0[0] == "Authorization" }?[1]
                    == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            )
            #expect(answer.header("Cache-Control") == "no-store")
        }
    }

    @Test(
        "a body is signed and given back in base64; merge fields fill in the caller's principal",
        arguments: TestStore.all)
    func bodyAndHeaders(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            let answer = try await service.send(
                "POST", "/v1/sign", as: .key("app"),
                json: [
                    "method": "post", "url": "callout:Billing/invoices?month=11",
                    "headers": [["Accept", "application/json"]],
                    "body_base64": Data("{\"amount\":1}".utf8).base64EncodedString(),
                ])
            #expect(answer.status == 200, "\(answer.text)")
            let json = try #require(try answer.json() as? [String: Any])
            #expect(json["method"] as? String == "POST")
            #expect(json["url"] as? String == "https://api.billing.example/v1/invoices?month=11")
            #expect(json["body_base64"] as? String == Data("{\"amount\":1}".utf8).base64EncodedString())
            let headers = try #require(json["headers"] as? [[String]])
            #expect(headers.contains(["X-Api-Key", ServiceHarness.billingKey]))
            #expect(headers.contains(["Accept", "application/json"]))
        }
    }

    @Test(
        "acting as another user takes admin, or an app granted actAs; members and plain apps may not",
        arguments: TestStore.all)
    func actingAs(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            let request: [String: Any] = ["method": "GET", "url": "callout:Billing/x", "as": "alice"]
            #expect(try await service.send("POST", "/v1/sign", as: .key("actor"), json: request).status == 200)
            #expect(try await service.send("POST", "/v1/sign", as: .basic("ada"), json: request).status == 200)
            for caller in ["app", "olga"] {
                let refused = try await service.send("POST", "/v1/sign", as: .key(caller), json: request)
                #expect(refused.status == 403)
                #expect(refused.errorCode == "forbidden")
            }
            // As yourself is always allowed; the engine then uses only your own grants.
            #expect(
                try await service.send(
                    "POST", "/v1/sign", as: .key("app"),
                    json: ["method": "GET", "url": "callout:Billing/x", "as": "app"]
                ).status == 200)
            // alice has no grant of Billing through olga's eyes: the engine says so, with its code.
            let noGrant = try await service.send(
                "POST", "/v1/sign", as: .basic("olga"), json: ["method": "GET", "url": "callout:Billing/x"])
            #expect(noGrant.status == 422)
            #expect(noGrant.errorCode == "no-principal")
        }
    }

    @Test("bad input is a JSON 400 or 422 that names the problem and echoes no secret", arguments: TestStore.all)
    func badInput(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            let cases: [(Any?, [UInt8]?, String)] = [
                (nil, Array("{not json".utf8), "invalid-request"),
                (["url": "callout:Billing/x"], nil, "invalid-request"),
                (["method": "GET", "url": "callout:Nope/x"], nil, "callout-refused"),
                (["method": "G E T", "url": "callout:Billing/x"], nil, "invalid-request"),
                (["method": "GET", "url": "callout:Billing/x", "headers": [["only-a-name"]]], nil, "invalid-request"),
                (["method": "GET", "url": "callout:Billing/x", "at": "yesterday"], nil, "invalid-request"),
                (["method": "GET", "url": "callout:Billing/x", "at": "1500-06-01T00:00:00Z"], nil, "invalid-request"),
                (["method": "GET", "url": "https://elsewhere.example/invoices"], nil, "callout-refused"),
            ]
            for (json, body, code) in cases {
                let answer = try await service.send("POST", "/v1/sign", as: .key("app"), json: json, body: body)
                #expect((400..<500).contains(answer.status), "\(answer.status) \(answer.text)")
                #expect(answer.errorCode == code, "\(answer.text)")
                #expect(!answer.text.contains(ServiceHarness.billingKey))
            }
        }
    }

    @Test("presign answers a URL; a credential that cannot presign says so", arguments: TestStore.all)
    func presign(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            let answer = try await service.send(
                "POST", "/v1/presign", as: .basic("alice"),
                json: ["method": "GET", "url": "callout:Example/object", "expires": 600, "at": "2015-08-30T12:36:00Z"])
            #expect(answer.status == 200, "\(answer.text)")
            let url = try #require((try answer.json() as? [String: String])?["url"])
            #expect(url.hasPrefix("https://example.amazonaws.com/object?X-Amz-Algorithm=AWS4-HMAC-SHA256"))
            #expect(url.contains("X-Amz-Expires=600"))
            let refused = try await service.send(
                "POST", "/v1/presign", as: .key("app"), json: ["method": "GET", "url": "callout:Billing/x"])
            #expect(refused.errorCode == "unsupported")
        }
    }

    @Test(
        "every use is in the audit log: caller, authenticator, acting user, principal, host and path without the query",
        arguments: TestStore.all)
    func useRecords(store: TestStore) async throws {
        let harness = try await ServiceHarness.start(store: store)
        _ = try await harness.send(
            "POST", "/v1/sign", as: .key("actor"),
            json: ["method": "GET", "url": "callout:Billing/invoices?token=query-value", "as": "alice"])
        _ = try await harness.send(
            "POST", "/v1/sign", as: .key("app"), json: ["method": "GET", "url": "callout:Nope/x"])
        _ = try await harness.send(
            "POST", "/v1/sign", as: .key("app"),
            json: ["method": "GET", "url": "https://someone:userinfo-secret@[::1]:8443/v1/x?q=query-value#part"])
        try await harness.stop(removing: false)  // drains and writes the last records
        defer { try? FileManager.default.removeItem(atPath: harness.directory) }
        let uses = try harness.vault.auditEntries(limit: 10, matching: .init(action: "use"))
        #expect(uses.count == 3)
        let first = try #require(uses.first)
        #expect(first.action == "use.sign")
        #expect(first.actor == "actor")
        #expect(first.detail["authenticator"] == "api-key")
        #expect(first.detail["actingUser"] == "alice")
        #expect(first.detail["principal"] == "Billing/billing-org")
        #expect(first.detail["host"] == "api.billing.example")
        #expect(first.detail["path"] == "/v1/invoices")
        #expect(first.detail["outcome"] == "ok")
        #expect(!"\(uses)".contains("query-value"))
        #expect(!"\(uses)".contains("userinfo-secret"))
        #expect(uses[1].detail["outcome"] == "callout-refused")
        // A URL under no named credential: its host (without user information or port) and path.
        #expect(uses[2].detail["host"] == "::1")
        #expect(uses[2].detail["path"] == "/v1/x")
        #expect(try harness.vault.auditEntries(limit: 10, matching: .init(user: "alice", action: "use")).count == 1)
        #expect(try harness.vault.verifyAudit().valid)
    }

    @Test(
        "GET /metrics counts requests by route and status, signing latency and authenticator outcomes",
        arguments: TestStore.all)
    func metrics(store: TestStore) async throws {
        try await ServiceHarness.with(store: store) { service in
            _ = try await service.send(
                "POST", "/v1/sign", as: .key("app"), json: ["method": "GET", "url": "callout:Billing/x"])
            _ = try await service.send("POST", "/v1/sign", as: .basic("alice", password: "wrong password"), json: [:])
            let answer = try await service.send("GET", "/metrics", as: .basic("olga"))
            #expect(answer.status == 200)
            #expect(answer.header("Content-Type")?.hasPrefix("text/plain") == true)
            let text = answer.text
            #expect(
                text.contains(#"sigil_http_requests_total{route="/v1/sign",method="POST",status="200"} 1"#), "\(text)")
            #expect(text.contains(#"sigil_http_requests_total{route="/v1/sign",method="POST",status="401"} 1"#))
            #expect(text.contains(#"sigil_authentications_total{authenticator="api-key",outcome="success"}"#))
            #expect(text.contains(#"sigil_authentications_total{authenticator="basic",outcome="failure"} 1"#))
            #expect(text.contains(#"sigil_sign_duration_seconds_count{kind="sign"} 1"#))
            #expect(!text.contains(ServiceHarness.billingKey))
        }
    }
}
